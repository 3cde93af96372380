"""jupyter_server's contents-manager cases (tests/jupyter/test_jupyter_contents.py) against the
container cluster."""

from test_jupyter_contents import *
