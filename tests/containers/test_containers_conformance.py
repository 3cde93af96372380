"""fsspec's conformance suite (tests/fs/test_fs_conformance.py), on the native backend, against the
container cluster: a host client reaching the NameNode and DataNodes by container address."""

from test_fs_conformance import *
