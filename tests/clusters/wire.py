"""Test helper: capture the TCP payloads on the loopback interface (an AF_PACKET socket, which
needs root or CAP_NET_RAW), to check what a client really sends to a NameNode or DataNode port."""

from __future__ import annotations

import socket
import struct
import threading
from collections import defaultdict
from types import TracebackType
from typing import Self

_ETH_P_ALL = 0x0003
_SO_RCVBUFFORCE = 33  # Linux: SO_RCVBUF beyond rmem_max (root); Python's socket lacks the name
_ETHERNET = 14  # the loopback device's frames carry an (all-zero) Ethernet header


class LoopbackCapture:
    """`with LoopbackCapture(ports) as cap:` ...; then `cap.payload(port)`: every TCP payload
    byte sent to or from `port` on 127.0.0.1 while the block ran (both directions, as seen)."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = set(ports)
        self._data: dict[int, bytearray] = defaultdict(bytearray)
        self._stop = threading.Event()
        try:
            self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(_ETH_P_ALL))
        except PermissionError as e:
            raise PermissionError(
                "capturing loopback traffic needs root or CAP_NET_RAW: run the tests as root"
            ) from e
        # room for seconds of loopback traffic: a busy machine must not make us drop packets
        self._sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, 64 << 20)
        self._sock.bind(("lo", 0))
        self._sock.settimeout(0.1)
        self._thread = threading.Thread(target=self._run, name="loopback-capture", daemon=True)

    def payload(self, port: int) -> bytes:
        return bytes(self._data[port])

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                frame = self._sock.recv(1 << 18)
            except TimeoutError:
                continue
            self._record(memoryview(frame)[_ETHERNET:])

    def _record(self, ip: memoryview) -> None:
        if len(ip) < 20 or ip[0] >> 4 != 4 or ip[9] != socket.IPPROTO_TCP:
            return
        ip_header = (ip[0] & 0x0F) * 4
        end = struct.unpack("!H", ip[2:4])[0] or len(ip)  # total length; 0: a GSO super-packet
        tcp = ip[ip_header:]
        source, target = struct.unpack("!HH", tcp[:4])
        payload = ip[ip_header + (tcp[12] >> 4) * 4 : end]
        for port in {source, target} & self.ports:
            self._data[port] += payload
