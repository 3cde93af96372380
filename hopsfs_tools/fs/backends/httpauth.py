"""How the WebHDFS backend proves who it is on a Kerberos cluster: SPNEGO with the ticket, or a
delegation token (`delegation=` on every NameNode request) for a process without a ticket."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hopsfs_tools.hadoop import tokens

if TYPE_CHECKING:
    import requests

    from hopsfs_tools.config import ClusterConfig

Auth = tuple["requests.auth.AuthBase | None", tuple[type[Exception], ...], dict[str, str]]


def kerberos_auth(config: ClusterConfig) -> Auth:
    """The requests auth, the errors it raises and the query parameters naming the caller:
    the HDFS delegation token of config.token_file (HADOOP_TOKEN_FILE_LOCATION) if set, else
    SPNEGO with the ticket in the ticket cache."""
    if config.token_file:
        return None, (), {"delegation": tokens.hdfs_token(config.token_file).url_string()}
    try:
        from requests_gssapi import OPTIONAL, HTTPSPNEGOAuth
        from requests_gssapi.exceptions import MutualAuthenticationError, SPNEGOExchangeError
    except ImportError as e:
        raise ImportError(
            "WebHDFS on a Kerberos cluster needs requests-gssapi for SPNEGO: "
            "pip install 'hopsfs-tools[kerberos]' (or a delegation token in "
            f"{tokens.VARIABLE})"
        ) from e
    # The server is already authenticated by TLS; Hadoop does not always send its token back.
    auth = HTTPSPNEGOAuth(mutual_authentication=OPTIONAL)
    return auth, (SPNEGOExchangeError, MutualAuthenticationError), {}
