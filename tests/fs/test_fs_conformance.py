"""fsspec's own conformance suite (fsspec.tests.abstract) against hopsfs, once per backend.

Modelled on s3fs's tests/derived: a fixtures class provides `fs` and `fs_path`, and each
Abstract*Tests class is subclassed with it.
"""

from __future__ import annotations

import pytest
from fsspec.tests import abstract
from fsspec.tests.abstract import AbstractFixtures

from hopsfs_tools.config import BACKENDS
from hopsfs_tools.fs import HopsFileSystem


class HopsFixtures(AbstractFixtures):
    @pytest.fixture(params=BACKENDS)
    def fs(self, request, cluster):
        return HopsFileSystem(
            backend=request.param, namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url
        )

    @pytest.fixture
    def fs_path(self, hdfs_dir):
        return hdfs_dir


class TestHopsCopy(abstract.AbstractCopyTests, HopsFixtures):
    pass


class TestHopsGet(abstract.AbstractGetTests, HopsFixtures):
    pass


class TestHopsPut(abstract.AbstractPutTests, HopsFixtures):
    pass


class TestHopsPipe(abstract.AbstractPipeTests, HopsFixtures):
    pass


class TestHopsOpen(abstract.AbstractOpenTests, HopsFixtures):
    pass
