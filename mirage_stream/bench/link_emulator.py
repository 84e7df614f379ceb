"""A network link emulated in user space: delay, jitter, random loss and a rate limit between
two TUN devices, one in each of two network namespaces.

It does what ``tc netem`` does, for machines whose kernel has no ``sch_netem`` (this project's
build machines among them: ``tc qdisc add ... netem`` answers "Specified qdisc kind is
unknown"). Each direction is a FIFO: a packet leaves after the ones before it (no reordering),
waits its turn behind the rate limit (serialisation at ``rate_bps``), is dropped when the queue
holds more than ``queue_s`` of traffic (drop-tail, as a router's buffer), and arrives
``delay_s`` plus a jitter of up to ``jitter_s`` later. Loss is drawn from a seeded generator,
so a run can be repeated.
"""

from __future__ import annotations

import contextlib
import fcntl
import heapq
import os
import random
import select
import struct
import threading
import time
from dataclasses import dataclass, field

_TUNSETIFF = 0x400454CA
_IFF_TUN, _IFF_NO_PI = 0x0001, 0x1000
_MAX_PACKET = 65_536


@dataclass(frozen=True)
class LinkProfile:
    """One direction of a link."""

    delay_s: float = 0.0
    jitter_s: float = 0.0  # uniform in [0, jitter_s], added to the delay (never reorders)
    loss: float = 0.0  # probability a packet is dropped
    rate_bps: float | None = None  # None: no rate limit
    queue_s: float = 0.5  # the most traffic the rate limit queues, in seconds of it

    def __post_init__(self) -> None:
        if self.delay_s < 0 or self.jitter_s < 0 or not 0 <= self.loss < 1:
            raise ValueError(f"bad link profile {self}")
        if self.rate_bps is not None and self.rate_bps <= 0:
            raise ValueError(f"bad link rate {self.rate_bps}")


@dataclass
class LinkCounts:
    packets: int = 0
    bytes: int = 0  # offered to the link, IP headers included
    lost: int = 0  # dropped at random
    queue_dropped: int = 0  # dropped because the rate limit's queue was full
    delivered_bytes: int = 0


@dataclass
class LinkDirection:
    """When each packet offered to one direction arrives (or that it does not)."""

    profile: LinkProfile
    rng: random.Random
    counts: LinkCounts = field(default_factory=LinkCounts)
    _line_free_at: float = 0.0  # when the rate limit has sent everything queued so far
    _last_arrival: float = 0.0

    def schedule(self, now: float, size: int) -> float | None:
        """The arrival time of a ``size``-byte packet offered at ``now``; None when lost."""
        profile = self.profile
        self.counts.packets += 1
        self.counts.bytes += size
        if profile.loss and self.rng.random() < profile.loss:
            self.counts.lost += 1
            return None
        departure = now
        if profile.rate_bps is not None:
            start = max(now, self._line_free_at)
            if start - now > profile.queue_s:
                self.counts.queue_dropped += 1
                return None
            departure = self._line_free_at = start + size * 8 / profile.rate_bps
        jitter = self.rng.uniform(0.0, profile.jitter_s) if profile.jitter_s else 0.0
        arrival = max(departure + profile.delay_s + jitter, self._last_arrival)
        self._last_arrival = arrival
        self.counts.delivered_bytes += size
        return arrival


def open_tun(name: str) -> int:
    """A TUN device ``name`` (raw IP packets, no header) in this process's namespace; the file
    descriptor stays bound to it when the device moves to another namespace."""
    fd = os.open("/dev/net/tun", os.O_RDWR)
    try:
        fcntl.ioctl(fd, _TUNSETIFF, struct.pack("16sH", name.encode(), _IFF_TUN | _IFF_NO_PI))
    except OSError:
        os.close(fd)
        raise
    return fd


class _DeviceThread:
    """A daemon thread serving TUN devices until ``stop``."""

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout_s)

    def _run(self) -> None:
        raise NotImplementedError


class EmulatedLink(_DeviceThread):
    """Two TUN file descriptors joined by a thread: what one reads goes out of the other after
    its direction's delay, loss and rate limit (``forward``: a to b; ``backward``: b to a)."""

    def __init__(self, a: int, b: int, forward: LinkProfile, backward: LinkProfile, seed: int):
        super().__init__("emulated-link")
        rng = random.Random(seed)
        self.fds = (a, b)
        self.forward = LinkDirection(forward, random.Random(rng.random()))
        self.backward = LinkDirection(backward, random.Random(rng.random()))

    def _run(self) -> None:
        a, b = self.fds
        due: list[tuple[float, int, int, bytes]] = []  # (arrival, order, out fd, packet)
        order = 0
        while not self._stop.is_set():
            now = time.monotonic()
            wait = min(0.05, max(0.0, due[0][0] - now)) if due else 0.05
            try:
                readable, _, _ = select.select([a, b], [], [], wait)
            except (OSError, ValueError):
                return  # a descriptor closed under us: the lab is being taken down
            now = time.monotonic()
            for fd in readable:
                try:
                    packet = os.read(fd, _MAX_PACKET)
                except OSError:
                    continue
                direction, out = (self.forward, b) if fd == a else (self.backward, a)
                arrival = direction.schedule(now, len(packet))
                if arrival is not None:
                    heapq.heappush(due, (arrival, order, out, packet))
                    order += 1
            while due and due[0][0] <= time.monotonic():
                _, _, out, packet = heapq.heappop(due)
                with contextlib.suppress(OSError):  # the device went down: lost, as on a wire
                    os.write(out, packet)


class DiscardingDevice(_DeviceThread):
    """A TUN device that swallows what is routed to it, without an error to the sender: the
    wan's default route, as the Internet drops packets for private addresses. (Without it a
    TURN server that relays towards a host candidate gets "network unreachable", which coturn
    takes as the end of the allocation.)"""

    def __init__(self, fd: int) -> None:
        super().__init__("discarding-device")
        self.fd = fd
        self.packets = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                readable, _, _ = select.select([self.fd], [], [], 0.05)
                if readable:
                    os.read(self.fd, _MAX_PACKET)
                    self.packets += 1
            except (OSError, ValueError):
                return
