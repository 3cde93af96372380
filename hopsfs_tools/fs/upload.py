"""One write of a file: temporary file, local spool, restart, commit, discard.

Writing goes to "<dir>/.<name>.hopsfs-tmp-<uuid>" (see `commit`), renamed over the target by
`commit()`; `discard()` deletes it and leaves the target untouched.

With a backend whose client cannot recover a write from a lost DataNode (native, webhdfs),
after a transient failure the upload restarts into a fresh temporary file (the old one is
deleted), bounded by the retries, replaying what was written: read again from `source` (the
local file `put` sends: no copy), else kept: the last HOLD_BYTES of it as the chunks the caller
wrote (`bytes` by reference, no copy: they cannot change; other buffers copied), what is older
in a local spool (SPOOL_MEMORY in memory, the rest in $TMPDIR), up to SPOOL_LIMIT bytes in all.
A client that cannot exclude a lost DataNode itself (hdfs-native) is often given it again by
the NameNode: after a second DataNode loss the restart waits until the NameNode leaves that
DataNode out (`stale_datanode_avoided_after`), and restarts write one replica fewer (a NameNode
short of healthy DataNodes fills a pipeline with a stale one), asking for the full count once
the data is in. A chunk of KEEP_IN_THREAD bytes
or more leaving the held chunks is copied into the spool by a thread of its own while the send
goes on, up to KEEP_BEHIND bytes behind (a slow local disk does not hold the send back), and a
restart first waits until the spool holds everything older than the held chunks.
`restartable=False` keeps no copy and never restarts: faster, but a DataNode lost mid-write
fails the write (the target stays as it was). Appends are never restarted.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from hopsfs_tools.fs import commit, errors
from hopsfs_tools.fs.client import Client

log = logging.getLogger(__name__)

TOUCH_INTERVAL = 60.0  # seconds between mtime updates of a temporary file being written
SPOOL_MEMORY = 8 * 2**20  # a restartable write keeps this much in memory, the rest in $TMPDIR
SPOOL_LIMIT = 2 * 2**30  # ... and stops keeping a copy (no more restarts) beyond this size
REPLAY_CHUNK = 8 * 2**20  # bytes per write when a restart replays the spool
KEEP_IN_THREAD = 2**20  # chunks this large are spooled beside the send, not before it
KEEP_BEHIND = 64 * 2**20  # bytes of chunks the spool may lag behind the held chunks


def _hold_bytes() -> int:
    """How much of a restartable write is held as its chunks (no copy): 1 GiB, at most 1/16 of
    the memory this process may use (its cgroup's limit, else the machine's)."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    try:
        with open("/sys/fs/cgroup/memory.max") as f:
            memory = min(memory, int(f.read()))
    except (OSError, ValueError):  # no cgroup v2 limit ("max") or not Linux
        pass
    return min(2**30, memory // 16)


HOLD_BYTES = _hold_bytes()


class Upload:
    """The write of `path` in `mode` ("wb", "xb" or "ab") through `client`.

    Every method raises errors about `path` (the name the caller knows, not the temporary
    file's) and, on failure, discards what was written.
    """

    def __init__(
        self,
        client: Client,
        path: str,
        mode: str,
        *,
        restartable: bool = True,
        source: str | None = None,
        **write_options: Any,
    ) -> None:
        """`source`: a local file holding exactly what will be written, in order (a restart
        reads it again instead of spooling); `restartable=False`: keep no copy, never restart."""
        self.client = client
        self.path = path
        self.mode = mode
        self.write_options = write_options  # replication / permission of the new file
        self.temp_path: str | None = None
        self.restartable = restartable
        self._source = source
        self._written = 0  # bytes written so far (replayed from `source` on a restart)
        self._raw: Any = None
        self._spool: tempfile.SpooledTemporaryFile[bytes] | None = None
        self._keeper: ThreadPoolExecutor | None = None  # spools big chunks beside the send
        self._keeping: deque[tuple[Future[None], int]] = deque()  # chunks being spooled, sizes
        self._held: deque[bytes] = deque()  # the newest chunks written, after the spool's
        self._held_bytes = 0
        self._touched = time.monotonic()
        self._replication: int | None = None  # asked for again at finish (see _fewer_replicas)

    def start(self) -> None:
        """Check the target and open the stream (so permission errors show up at open())."""
        with self._failing():
            try:
                current = self.client.info(self.path)
            except FileNotFoundError:
                current = None
            if current and current["type"] == "directory":
                raise errors.make(
                    IsADirectoryError, self.path, f"cannot write to {self.path}: it is a directory"
                )
            if current and self.mode == "xb":
                raise errors.make(
                    FileExistsError, self.path, f"cannot create {self.path}: it exists (mode 'xb')"
                )
            if self.mode == "ab" and current:
                self._raw = self.client.append(self.path)
                return
            if not self.restartable or self.client.backend.recovers_writes:
                self._source = None  # nothing to replay
            elif self.client.config.retries and self._source is None:
                self._spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - see _drop_spool
                    SPOOL_MEMORY, prefix="hopsfs-spool-"
                )
            self._restarting(self._open_temp, redo=False)  # a restart opens a new temp file

    def write(self, data: bytes | memoryview) -> None:
        """Send `data`, kept for a restart too (which replays it); bytes go to the client
        uncopied."""
        with self._failing():
            self._keep_beside(data)
            self._restarting(lambda: self._raw.write(data), redo=False)

    def finish(self) -> None:
        """Close the stream: the data is complete on the cluster (not yet under its name)."""
        with self._failing():
            self._restarting(lambda: self._raw.close(), redo=True)
            self._drop_spool()
        if self._replication is not None:
            self._restore_replication()

    def touch(self) -> None:
        """Move the temporary file's mtime to now, at most every TOUCH_INTERVAL: HDFS leaves it
        at creation until close, and `clean_tmp` must tell live writes from dead ones."""
        if self.temp_path is None or time.monotonic() - self._touched < TOUCH_INTERVAL:
            return
        self._touched, now = time.monotonic(), time.time()
        try:
            self.client.call("set_times", self.temp_path, mtime=now, atime=now)
        except OSError as e:  # only a hint for clean_tmp: never fail the write for it
            log.debug("could not touch %s: %s", self.temp_path, e)

    def commit(self) -> None:
        """Move the finished temporary file over the target (atomic on the namenode)."""
        if self.temp_path is None:
            return
        with self._failing():
            self.client.rename(self.temp_path, self.path, overwrite=self.mode != "xb")
        self.temp_path = None

    def discard(self) -> None:
        """Drop what was written: the target stays as it was."""
        self._drop_spool()
        self._close_raw()
        temp, self.temp_path = self.temp_path, None
        if temp is not None:
            self.client.try_rm(temp)

    @contextmanager
    def _failing(self) -> Iterator[None]:
        """On an error inside, drop the temporary file (the target stays as it was) and raise the
        error about the target, the path the caller knows."""
        try:
            yield
        except BaseException as e:
            temp = self.temp_path
            self.discard()
            if isinstance(e, OSError) and temp is not None:
                raise errors.retarget(e, temp, self.path) from e
            raise

    def _open_temp(self) -> None:
        """Start writing a new temporary file beside the target."""
        self.temp_path = commit.temp_path(self.path)
        self._raw = self.client.open_writer(self.temp_path, **self.write_options)

    def _keep_beside(self, data: bytes | memoryview) -> None:
        """Count `data` and keep it for a restart: held as it is if `bytes` (immutable), else
        copied; the oldest held chunks past HOLD_BYTES go to the spool (a big one in the keeper
        thread, started now, in order), past SPOOL_LIMIT in all nothing is kept."""
        size = data.nbytes if isinstance(data, memoryview) else len(data)
        self._written += size
        if self._spool is None:
            return
        if self._written > SPOOL_LIMIT:
            log.info("%s: over %d bytes, the write can no longer restart", self.path, SPOOL_LIMIT)
            self._drop_spool()
            return
        self._held.append(data if isinstance(data, bytes) else bytes(data))
        self._held_bytes += size
        while self._held_bytes > HOLD_BYTES:
            chunk = self._held.popleft()
            self._held_bytes -= len(chunk)
            self._spill(chunk)

    def _spill(self, chunk: bytes) -> None:
        """Add a chunk leaving the held ones to the spool: a big one in the keeper thread, which
        may lag KEEP_BEHIND bytes behind."""
        size = len(chunk)
        self._kept(KEEP_BEHIND - size)
        if size < KEEP_IN_THREAD:
            self._kept()
            self._keep(chunk, size)
            return
        if self._keeper is None:
            self._keeper = ThreadPoolExecutor(1, thread_name_prefix="hopsfs-spool")
        self._keeping.append((self._keeper.submit(self._keep, chunk, size), size))

    def _kept(self, behind: int = 0) -> None:
        """Wait until at most `behind` bytes handed to the keeper thread are not yet in the
        spool."""
        while self._keeping and sum(size for _, size in self._keeping) > max(behind, 0):
            future, _ = self._keeping.popleft()
            future.result()

    def _keep(self, data: bytes, size: int) -> None:
        """Add `data` to the spool; on a failure (a full local disk) stop keeping it. (Runs in
        the keeper thread for a big chunk: it only ever closes the spool.)"""
        spool = self._spool
        if spool is None:
            return
        try:
            spool.write(data)
            return
        except (OSError, ValueError) as e:
            log.warning("%s: cannot spool locally (%s): the write cannot restart", self.path, e)
        self._spool = None
        self._held.clear()
        spool.close()

    def _drop_spool(self) -> None:
        """Stop keeping a copy: wait for the keeper thread, close the spool, let go of the held
        chunks."""
        self._kept()
        self._held.clear()
        self._held_bytes = 0
        spool, self._spool = self._spool, None
        if spool is not None:
            spool.close()
        keeper, self._keeper = self._keeper, None
        if keeper is not None:
            keeper.shutdown(wait=False)

    def _restarting(self, step: Callable[[], Any], *, redo: bool) -> None:
        """step(); after a transient failure (and while the spool holds everything written so
        far) restart the upload into a fresh temporary file, replay the spool, and re-run
        step() if `redo` (a write's data is already in the replayed spool)."""
        policy, failures = self.client.policy, 0
        lost_at: float | None = None  # when a DataNode was first lost
        pending = step
        while True:
            try:
                pending()
                return
            except Exception as e:
                self._kept()  # the spool and the held chunks hold everything written so far
                first_open = self._raw is None
                # An untyped OSError creating the temporary file is a Java exception libhdfs
                # could not name (e.g. EOFException on a connection to a restarted NameNode):
                # creating a fresh temporary file is safe to repeat, so it gets one more try.
                unnamed = first_open and failures == 0 and type(e) is OSError
                retryable = errors.transient(e) or unnamed
                replayable = self._spool is not None or self._source is not None
                if not retryable or (not replayable and not first_open):
                    raise
                if failures >= policy.retries:
                    raise
                delay = policy.delay(failures)
                if isinstance(e, errors.DataNodeLostError):
                    self._fewer_replicas()
                    if lost_at is None:  # the NameNode may well choose other DataNodes
                        lost_at = time.monotonic()
                    elif avoided := self.client.config.stale_datanode_avoided_after:
                        # it chose the lost one again: wait until it leaves that one out
                        delay = max(delay, lost_at + avoided - time.monotonic())
                failures += 1
                log.warning(
                    "writing %s failed (%s); restarting the upload in %.1fs", self.path, e, delay
                )
                time.sleep(delay)
                pending = self._replay_then(step if redo else None)

    def _fewer_replicas(self) -> None:
        """Restart with one replica fewer after a lost DataNode: a NameNode short of DataNodes
        it deems healthy fills the pipeline with a stale (maybe dead) one until that one is
        declared dead (10.5 min by default), which hdfs-native cannot exclude itself."""
        if self._replication is not None:
            return
        wanted = self.write_options.get("replication") or self.client.config.replication
        if wanted > 1:
            self._replication = wanted
            self.write_options = {**self.write_options, "replication": wanted - 1}

    def _restore_replication(self) -> None:
        """Ask for the replication the write was meant to have; the NameNode adds the missing
        replica once it has a DataNode for it (as after the Java client's best-effort recovery).
        The data is complete either way: a failure here is only logged."""
        try:
            self.client.call("set_replication", self.temp_path, self._replication)
        except OSError as e:
            log.warning(
                "%s was written with %d replicas after losing a DataNode, and asking for %d "
                "failed (%s): run `hdfs dfs -setrep %d %s`",
                self.path,
                self._replication - 1,
                self._replication,
                e,
                self._replication,
                self.path,
            )

    def _replay_then(self, step: Callable[[], Any] | None) -> Callable[[], None]:
        """A step that drops the failed temporary file, opens a new one, replays the spool and
        then runs `step`."""

        def restart() -> None:
            self._abandon()
            self._open_temp()
            if self._spool is not None:
                self._spool.seek(0)
                while chunk := self._spool.read(REPLAY_CHUNK):
                    self._raw.write(chunk)
                for held in self._held:
                    self._raw.write(held)
            elif self._source is not None:
                self._replay_source()
            if step is not None:
                step()

        return restart

    def _replay_source(self) -> None:
        """Write the first `_written` bytes of the local source file again."""
        assert self._source is not None
        with open(self._source, "rb") as src:
            left = self._written
            while left > 0:
                chunk = src.read(min(REPLAY_CHUNK, left))
                if not chunk:
                    raise errors.make(
                        OSError,
                        self.path,
                        f"cannot restart the upload of {self.path}: the local file "
                        f"{self._source} shrank while being sent",
                    )
                self._raw.write(chunk)
                left -= len(chunk)

    def _abandon(self) -> None:
        """Forget the current raw stream and delete its temporary file (one attempt)."""
        self._close_raw()
        temp, self.temp_path = self.temp_path, None
        if temp is not None:
            self.client.try_rm(temp, retry=False)

    def _close_raw(self) -> None:
        """Close the raw stream if open (it failed already, or its file is being dropped)."""
        raw, self._raw = self._raw, None
        if raw is not None and not raw.closed:
            try:
                raw.close()
            except Exception as e:  # noqa: BLE001 - the file is dropped either way
                log.debug("closing the abandoned write of %s: %s", self.path, e)


__all__ = ["SPOOL_LIMIT", "SPOOL_MEMORY", "TOUCH_INTERVAL", "Upload"]
