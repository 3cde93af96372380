"""Calls in daemon threads of their own that can be given up: hdfs-native cannot cancel a write
blocked on a DataNode that stopped answering, so the caller stops waiting and the thread stays
blocked (counted in `stuck_calls`) until the DataNode answers, if ever."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

_stuck = 0  # given-up calls still blocked in their threads
_stuck_lock = threading.Lock()


def stuck_calls() -> int:
    """How many given-up write calls of this process are still blocked in their threads."""
    with _stuck_lock:
        return _stuck


class WatchedCall:
    """call(*args) in a daemon thread of its own, never joined (not even at exit: a stalled call
    would hang it), which can be given up; counted in `stuck_calls` until it returns."""

    def __init__(self, call: Callable[..., Any], *args: Any) -> None:
        self.future: Future[Any] = Future()
        self._given_up = self._finished = False
        threading.Thread(
            target=self._run, args=(call, args), name="hopsfs-native-write", daemon=True
        ).start()

    def _run(self, call: Callable[..., Any], args: tuple[Any, ...]) -> None:
        global _stuck
        if self.future.set_running_or_notify_cancel():
            try:
                self.future.set_result(call(*args))
            except BaseException as e:  # noqa: BLE001 - handed to the waiting caller
                self.future.set_exception(e)
        with _stuck_lock:
            self._finished = True
            if self._given_up:
                _stuck -= 1

    def give_up(self) -> None:
        global _stuck
        with _stuck_lock:
            if not self._finished:
                self._given_up = True
                _stuck += 1


__all__ = ["WatchedCall", "stuck_calls"]
