"""Configuration: where the cluster is (`cluster`), who acts on it, read once (`settings`), and
the project that identity belongs to (`project`).

`settings` is the only module that reads the process environment for settings.
"""

from hopsfs_tools.config.cluster import (
    BACKENDS,
    CA_PROPERTY,
    DEFAULT_RETRIES,
    DEFAULT_RETRY_BACKOFF,
    DEFAULT_TIMEOUT,
    DEFAULT_UMASK,
    UMASK_KEY,
    ClusterConfig,
    build_config,
    namenode_addresses,
    namenode_http_urls,
    parse_umask,
    read_site_xml,
    viewfs_mounts,
    write_site_xml,
)
from hopsfs_tools.config.settings import (
    Identity,
    Settings,
    cache_dir,
    default_cluster_dir,
    env,
    load_config,
    resolve,
)

__all__ = [
    "BACKENDS",
    "CA_PROPERTY",
    "DEFAULT_RETRIES",
    "DEFAULT_RETRY_BACKOFF",
    "DEFAULT_TIMEOUT",
    "DEFAULT_UMASK",
    "UMASK_KEY",
    "ClusterConfig",
    "Identity",
    "Settings",
    "build_config",
    "cache_dir",
    "default_cluster_dir",
    "env",
    "load_config",
    "namenode_addresses",
    "namenode_http_urls",
    "parse_umask",
    "read_site_xml",
    "resolve",
    "viewfs_mounts",
    "write_site_xml",
]
