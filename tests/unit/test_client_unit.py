"""The retry / idempotence / restart / replace logic of fs.client, fs.upload and fs.commit,
against an in-memory object implementing the Backend protocol (what HDFS does is tested
against the real cluster elsewhere; this is only the bookkeeping above it)."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import posixpath
from typing import Any

import pytest

from hopsfs_tools.config import build_config
from hopsfs_tools.fs import commit, errors
from hopsfs_tools.fs import upload as upload_module
from hopsfs_tools.fs.backends.base import BackendBase, FileInfo
from hopsfs_tools.fs.client import Client
from hopsfs_tools.fs.retry import RetryPolicy
from hopsfs_tools.fs.upload import Upload


class MemoryBackend(BackendBase):
    """Files in a dict; `lose` names operations whose next answer is lost after they ran."""

    name = "memory"
    recovers_writes = False

    def __init__(self, renames_over: bool = True) -> None:
        super().__init__(CONFIG)
        self.renames_over = renames_over
        self.files: dict[str, bytes] = {}
        self.lose: dict[str, int] = {}
        self.loss: type[ConnectionError] = ConnectionError  # what a lost answer raises
        self.replication: dict[str, int | None] = {}  # as asked for at open or set later

    def _maybe_lose(self, op: str) -> None:
        if self.lose.get(op):
            self.lose[op] -= 1
            raise self.loss(f"lost the answer to {op}")

    def info(self, path: str) -> FileInfo:
        if path in self.files:
            return FileInfo(name=path, size=len(self.files[path]), type="file")
        if any(p.startswith(path.rstrip("/") + "/") for p in self.files):
            return FileInfo(name=path, size=0, type="directory")
        raise FileNotFoundError(path)

    def ls(self, path: str) -> list[FileInfo]:
        return [self.info(p) for p in self.files if posixpath.dirname(p) == path]

    def rm(self, path: str, *, recursive: bool = False) -> None:
        if path not in self.files:
            raise FileNotFoundError(path)
        del self.files[path]
        self._maybe_lose("rm")

    def rename(self, src: str, dst: str, *, overwrite: bool = False) -> None:
        if src not in self.files:
            raise FileNotFoundError(src)
        if dst in self.files and not (overwrite and self.renames_over):
            raise FileExistsError(dst)
        self.files[dst] = self.files.pop(src)
        self._maybe_lose("rename")

    def open_write(self, path: str, **options: Any) -> io.BytesIO:
        backend = self

        class Stream(io.BytesIO):
            def write(self, data: Any) -> int:
                backend._maybe_lose("write")
                return super().write(data)

            def close(self) -> None:
                if not self.closed:
                    backend.files[path] = self.getvalue()
                super().close()

        self.files[path] = b""
        self.replication[path] = options.get("replication")
        return Stream()

    def set_replication(self, path: str, replication: int) -> None:
        self.info(path)
        self.replication[path] = replication


CONFIG = build_config(
    namenode="hdfs://memory:1",
    webhdfs_url=None,
    backend="native",
    conf_dir=None,
    user="u",
    timeout=5,
    ca_cert=None,
    retries=3,
    retry_backoff=0,
)


def test_rm_after_a_lost_answer_counts_as_done() -> None:
    backend = MemoryBackend()
    backend.files["/a"] = b"x"
    backend.lose["rm"] = 1
    Client(CONFIG, backend).rm("/a")  # the retry finds it gone: deleted by the lost attempt
    assert "/a" not in backend.files
    with pytest.raises(FileNotFoundError):  # without a lost answer, missing is an error
        Client(CONFIG, backend).rm("/a")


def test_rename_after_a_lost_answer_counts_as_done() -> None:
    backend = MemoryBackend()
    backend.files["/src"] = b"x"
    backend.lose["rename"] = 1
    Client(CONFIG, backend).rename("/src", "/dst")
    assert backend.files == {"/dst": b"x"}


def test_rename_over_an_existing_file_moves_it_aside_when_the_backend_cannot() -> None:
    backend = MemoryBackend(renames_over=False)
    backend.files.update({"/d/new": b"new", "/d/old": b"old"})
    Client(CONFIG, backend).rename("/d/new", "/d/old", overwrite=True)
    assert backend.files == {"/d/old": b"new"}  # nothing left aside


def test_replace_puts_the_old_file_back_when_the_rename_fails() -> None:
    backend = MemoryBackend(renames_over=False)
    backend.files["/d/old"] = b"old"
    with pytest.raises(FileNotFoundError):
        commit.replace(backend, "/d/missing", "/d/old")
    assert backend.files == {"/d/old": b"old"}


def test_upload_restarts_from_its_spool_after_a_lost_write() -> None:
    backend = MemoryBackend()
    upload = Upload(Client(CONFIG, backend), "/d/target", "wb")
    upload.start()
    upload.write(memoryview(b"first "))
    first_temp = upload.temp_path
    backend.lose["write"] = 1
    upload.write(memoryview(b"second"))  # fails once: a new temporary file, spool replayed
    assert upload.temp_path != first_temp and first_temp not in backend.files
    upload.finish()
    upload.commit()
    assert backend.files == {"/d/target": b"first second"}


def test_upload_discard_leaves_the_target_untouched() -> None:
    backend = MemoryBackend()
    backend.files["/d/target"] = b"old"
    upload = Upload(Client(CONFIG, backend), "/d/target", "wb")
    upload.start()
    upload.write(memoryview(b"new"))
    upload.discard()
    assert backend.files == {"/d/target": b"old"}


def test_upload_of_a_local_file_restarts_from_the_file_not_a_spool(tmp_path) -> None:
    source = tmp_path / "local.bin"
    source.write_bytes(b"first second")
    backend = MemoryBackend()
    upload = Upload(Client(CONFIG, backend), "/d/target", "wb", source=str(source))
    upload.start()
    assert upload._spool is None  # no second copy of the local file
    upload.write(memoryview(b"first "))
    backend.lose["write"] = 1
    upload.write(memoryview(b"second"))  # fails once: a new temporary file, the file replayed
    upload.finish()
    upload.commit()
    assert backend.files == {"/d/target": b"first second"}


def test_upload_restart_names_a_local_file_that_shrank(tmp_path) -> None:
    source = tmp_path / "local.bin"
    source.write_bytes(b"first ")
    backend = MemoryBackend()
    upload = Upload(Client(CONFIG, backend), "/d/target", "wb", source=str(source))
    upload.start()
    upload.write(memoryview(b"first "))
    source.write_bytes(b"fir")
    backend.lose["write"] = 1
    with pytest.raises(OSError, match="shrank"):
        upload.write(memoryview(b"second"))
    assert backend.files == {}  # the temporary file is gone, no target


def test_an_unrestartable_upload_keeps_no_copy_and_fails_on_a_lost_write() -> None:
    backend = MemoryBackend()
    backend.files["/d/target"] = b"old"
    upload = Upload(Client(CONFIG, backend), "/d/target", "wb", restartable=False)
    upload.start()
    assert upload._spool is None
    upload.write(memoryview(b"first "))
    backend.lose["write"] = 1
    with pytest.raises(ConnectionError):
        upload.write(memoryview(b"second"))
    assert backend.files == {"/d/target": b"old"}


def test_big_chunks_are_spooled_beside_the_send_and_replayed_in_order(monkeypatch) -> None:
    """The newest HOLD_BYTES are held as the chunks written (bytes uncopied); older chunks of
    KEEP_IN_THREAD bytes or more are copied into the spool by the keeper thread while they are
    sent; a restart waits for that copy and replays the spool, then the held chunks, in order."""
    monkeypatch.setattr(upload_module, "KEEP_IN_THREAD", 4)
    monkeypatch.setattr(upload_module, "HOLD_BYTES", 12)
    backend = MemoryBackend()
    upload = Upload(Client(CONFIG, backend), "/d/target", "wb")
    upload.start()
    chunks = [b"big-one ", b"ab", b"big-two ", b"big-three"]
    for chunk in chunks[:-1]:
        upload.write(chunk)
    assert upload._keeper is not None  # the big chunks went through the keeper thread
    assert list(upload._held) == chunks[1:3] and upload._held[1] is chunks[2]  # not copied
    backend.lose["write"] = 1
    upload.write(chunks[-1])  # fails once: the replay must hold all four chunks
    upload.finish()
    upload.commit()
    assert backend.files == {"/d/target": b"".join(chunks)}
    assert upload._keeper is None and upload._spool is None and not upload._held


def test_held_chunks_are_copies_of_reused_buffers(monkeypatch) -> None:
    """A buffer the caller may reuse once `write` returns (a memoryview, a bytearray) is held
    as a copy: the replay sends what was written, not what the buffer holds later."""
    backend = MemoryBackend()
    upload = Upload(Client(CONFIG, backend), "/d/target", "wb")
    upload.start()
    buffer = bytearray(b"first ")
    upload.write(memoryview(buffer))
    buffer[:] = b"XXXXXX"  # reused by the caller
    backend.lose["write"] = 1
    upload.write(b"second")
    upload.finish()
    upload.commit()
    assert backend.files == {"/d/target": b"first second"}


def test_a_write_past_the_spool_limit_stops_restarts(monkeypatch) -> None:
    """Over SPOOL_LIMIT bytes the held chunks and the spool are dropped (the keeper thread
    finished first: no deadlock); a later lost write then fails the upload instead of replaying
    a partial copy."""
    monkeypatch.setattr(upload_module, "KEEP_IN_THREAD", 4)
    monkeypatch.setattr(upload_module, "HOLD_BYTES", 4)
    monkeypatch.setattr(upload_module, "SPOOL_LIMIT", 10)
    backend = MemoryBackend()
    upload = Upload(Client(CONFIG, backend), "/d/target", "wb")
    upload.start()
    upload.write(b"12345678")  # spooled in the keeper thread
    upload.write(b"9abcdefg")  # over the limit: nothing is kept any more
    assert upload._spool is None and not upload._held
    backend.lose["write"] = 1
    with pytest.raises(ConnectionError):
        upload.write(b"more")
    assert backend.files == {}


class Clock:
    """upload's `time`: sleeping moves the clock on, nothing waits."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


@pytest.mark.parametrize(
    ("loss", "avoids_stale", "waits", "replicas"),
    [
        # stale after 5 s, counted at the next check (5 s), + 1 s heartbeat; one replica fewer
        (errors.DataNodeLostError, True, [0, 11.0, 0], [None, 2, 2, 3]),
        (errors.DataNodeLostError, False, [0, 0, 0], [None, 2, 2, 3]),  # no wait helps
        (ConnectionError, True, [0, 0, 0], [None] * 4),  # not a DataNode: as asked
    ],
)
def test_a_datanode_lost_again_waits_until_the_namenode_avoids_it(
    monkeypatch,
    loss: type[ConnectionError],
    avoids_stale: bool,
    waits: list[float],
    replicas: list[int | None],
) -> None:
    """hdfs-native cannot exclude a lost DataNode; the NameNode gives it again until it is
    stale (and, short of healthy DataNodes for the replication, even then)."""
    properties = {
        "dfs.namenode.avoid.write.stale.datanode": str(avoids_stale).lower(),
        "dfs.namenode.stale.datanode.interval": "5000",
        "dfs.heartbeat.interval": "1",
    }
    config = dataclasses.replace(CONFIG, properties=properties)
    clock = Clock()
    monkeypatch.setattr(upload_module, "time", clock)
    backend = MemoryBackend()
    backend.loss = loss
    upload = Upload(Client(config, backend), "/d/target", "wb")
    upload.start()
    backend.lose["write"] = 3
    upload.write(memoryview(b"data"))
    upload.finish()
    asked = [backend.replication[p] for p in backend.replication if ".hopsfs-tmp-" in p]
    upload.commit()
    assert clock.slept == waits
    assert backend.files == {"/d/target": b"data"}
    assert asked == replicas  # the first as configured; the last set to 3 once complete


class MemoryAsync:
    """A MemoryBackend's asyncio face (`aio`): its sync calls, awaited."""

    def __init__(self, backend: MemoryBackend) -> None:
        self.backend = backend

    async def info(self, path: str) -> FileInfo:
        self.backend._maybe_lose("ainfo")
        return self.backend.info(path)


@pytest.mark.parametrize(
    ("error", "attempts"), [(ConnectionError("lost"), 4), (PermissionError("refused"), 1)]
)
def test_the_async_policy_retries_what_the_sync_one_does(error: OSError, attempts: int) -> None:
    """One policy: `acall` (the asyncio filesystem's) tries as often as `call` (retries=3)."""
    policy = RetryPolicy.from_config(CONFIG)
    tries = {"sync": 0, "async": 0}

    def sync_attempt() -> None:
        tries["sync"] += 1
        raise error

    async def async_attempt() -> None:
        tries["async"] += 1
        raise error

    with pytest.raises(type(error)):
        policy.call(sync_attempt, "a sync call")
    with pytest.raises(type(error)):
        asyncio.run(policy.acall(async_attempt, "an async call"))
    assert tries == {"sync": attempts, "async": attempts}


def test_async_calls_go_through_the_client_with_retries_and_hints() -> None:
    backend = MemoryBackend()
    backend.aio = MemoryAsync(backend)
    backend.files["/Projects/p/f"] = b"x"
    client = Client(CONFIG, backend, missing_hint="set HOPSFS_PROJECT")
    backend.lose["ainfo"] = 2  # two lost answers, then one
    assert asyncio.run(client.acall("info", "/Projects/p/f"))["size"] == 1
    assert backend.lose["ainfo"] == 0
    with pytest.raises(FileNotFoundError, match="set HOPSFS_PROJECT"):
        asyncio.run(client.acall("info", "/elsewhere/f"))
    with pytest.raises(FileNotFoundError) as missing:  # below /Projects: no project hint
        asyncio.run(client.acall("info", "/Projects/p/g"))
    assert "HOPSFS_PROJECT" not in str(missing.value)


@pytest.mark.parametrize(
    ("error", "attempts"),
    [
        (ConnectionError("the NameNode does not answer"), 1),  # past the deadline: reported
        (errors.DataNodeLostError("a DataNode does not answer"), 3),  # another one may serve
    ],
)
def test_the_deadline_stops_retries_unless_a_datanode_was_lost(monkeypatch, error, attempts):
    """An attempt that took the whole timeout (e.g. a connect timeout to a stopped DataNode's
    address) ends a NameNode call's retries, not a read's whose NameNode answered: the retry is
    sent to another DataNode."""
    clock = Clock()
    monkeypatch.setattr("hopsfs_tools.fs.retry.time", clock)
    policy = RetryPolicy(retries=2, backoff=0.1, deadline=20.0)
    calls = []

    def attempt():
        calls.append(clock.now)
        clock.now += 20.0  # as long as the timeout
        raise error

    with pytest.raises(type(error)):
        policy.call(attempt, "reading /f at 0")
    assert len(calls) == attempts
