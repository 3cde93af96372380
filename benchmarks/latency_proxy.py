"""A TCP proxy that holds every byte for a fixed time each way: a NameNode "farther away" than
loopback, for benchmarks on one machine whose kernel has no tc netem.

    python benchmarks/latency_proxy.py --target 127.0.0.1:8020 --delay-ms 0.25

prints the port it listens on (one line) and forwards until killed. Each direction of a
connection is a reader thread stamping chunks as they arrive and a sender thread releasing them
`delay` later, in order (thread sleeps are precise to tens of microseconds, an event loop's
timers only to about a millisecond). Measure the round trip you get: bench_fs does.
"""

from __future__ import annotations

import argparse
import contextlib
import queue
import socket
import sys
import threading
import time


def _direction(src: socket.socket, dst: socket.socket, delay: float) -> None:
    """Forward src to dst, each chunk `delay` seconds after it arrived (two threads)."""
    chunks: queue.SimpleQueue[tuple[float, bytes]] = queue.SimpleQueue()

    def receive() -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(1 << 16):
                chunks.put((time.monotonic() + delay, data))
        chunks.put((0.0, b""))

    def send() -> None:
        while True:
            due, data = chunks.get()
            if not data:
                break
            if (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
            try:
                dst.sendall(data)
            except OSError:
                break
        with contextlib.suppress(OSError):
            dst.shutdown(socket.SHUT_WR)

    for target in (receive, send):
        threading.Thread(target=target, daemon=True).start()


def serve(target: tuple[str, int], delay: float) -> None:
    """Accept on an ephemeral port of 127.0.0.1 (printed) and forward each connection."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        print(server.getsockname()[1], flush=True)
        while True:
            client, _ = server.accept()
            try:
                upstream = socket.create_connection(target)
            except OSError:
                client.close()
                continue
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            _direction(client, upstream, delay)
            _direction(upstream, client, delay)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", required=True, help="host:port to forward to")
    parser.add_argument("--delay-ms", type=float, required=True, help="added delay, each way")
    args = parser.parse_args()
    host, port = args.target.rsplit(":", 1)
    with contextlib.suppress(KeyboardInterrupt):
        serve((host, int(port)), args.delay_ms / 1000)
    return 0


if __name__ == "__main__":
    sys.exit(main())
