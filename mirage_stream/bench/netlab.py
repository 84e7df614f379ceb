"""Two machines behind two NATs, inside this one: network namespaces, NAT, a TURN server and
emulated links, for calls over a real (if simulated) Internet path.

    host_a 10.1.0.2 -- nat_a 10.1.0.1 | 198.18.1.2 ==link== 198.18.1.1 wan 198.18.2.1 ==link==
    198.18.2.2 | 10.2.0.1 nat_b -- 10.2.0.2 host_b

``wan`` holds the TURN (and STUN) server, coturn, on 198.18.0.1:3478. Each NAT masquerades its
host's traffic (``iptables MASQUERADE``, the way a home router does); ``nat_b`` also forwards
TCP port 8080 to ``host_b``, where the receiver's signaling listens, as a public signaling
server would be reachable. Media has to find its own way through both NATs: server-reflexive
candidates from STUN, or the TURN relay. The two ``==link==`` hops are ``EmulatedLink``s.

Only addresses inside these namespaces are used: 10.x and 198.18.0.0/15 (RFC 2544, reserved for
benchmarking, never routed on the Internet). Every name carries this process's tag; ``close``
kills what the lab started and deletes what it made, also when a step fails.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mirage_stream.bench.link_emulator import (
    DiscardingDevice,
    EmulatedLink,
    LinkProfile,
    open_tun,
)

TURN_ADDRESS = "198.18.0.1"
TURN_PORT = 3478
RECEIVER_PUBLIC = "198.18.2.2"  # nat_b's outside address, port 8080 forwarded to host_b
RECEIVER_PRIVATE = "10.2.0.2"
SIGNALING_PORT = 8080
TURN_USER = "mirage"
_TOOLS = ("ip", "iptables", "turnserver")
_STEP_TIMEOUT_S = 20.0


def lab_unavailable() -> str | None:
    """Why the lab cannot be built here (None when it can): it needs root, /dev/net/tun and
    the tools ``ip`` (iproute2), ``iptables`` and ``turnserver`` (coturn)."""
    if os.geteuid() != 0:
        return "the network lab needs root (network namespaces, NAT rules, TUN devices)"
    missing = [tool for tool in _TOOLS if shutil.which(tool) is None]
    if missing:
        return f"the network lab needs {', '.join(missing)} (Debian: iproute2 iptables coturn)"
    if not Path("/dev/net/tun").exists():
        return "the network lab needs /dev/net/tun"
    return None


@dataclass(frozen=True)
class LabLinks:
    """Each access link's two directions: up is towards the wan."""

    sender_up: LinkProfile = field(default_factory=LinkProfile)
    sender_down: LinkProfile = field(default_factory=LinkProfile)
    receiver_up: LinkProfile = field(default_factory=LinkProfile)
    receiver_down: LinkProfile = field(default_factory=LinkProfile)


class NetworkLab:
    """The namespaces, links and TURN server; a context manager (``close`` on exit)."""

    def __init__(self, links: LabLinks, seed: int = 0) -> None:
        reason = lab_unavailable()
        if reason is not None:
            raise RuntimeError(reason)
        tag = secrets.token_hex(3)
        self.names = {
            role: f"ms{tag}-{role}" for role in ("wan", "nat_a", "nat_b", "host_a", "host_b")
        }
        self.turn_password = secrets.token_urlsafe(12)
        self.folder = Path(tempfile.mkdtemp(prefix="mirage-netlab-"))
        self._tag = tag
        self._links: list[EmulatedLink] = []
        self._sink: DiscardingDevice | None = None
        self._processes: list[subprocess.Popen[bytes]] = []
        self._made: list[str] = []  # namespaces created, for close()
        try:
            self._build(links, seed)
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> NetworkLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- building -------------------------------------------------------------------

    def _ip(self, *argv: str) -> None:
        subprocess.run(["ip", *argv], check=True, capture_output=True, timeout=_STEP_TIMEOUT_S)

    def _in(self, role: str, *argv: str) -> None:
        subprocess.run(
            ["ip", "netns", "exec", self.names[role], *argv],
            check=True,
            capture_output=True,
            timeout=_STEP_TIMEOUT_S,
        )

    def _build(self, links: LabLinks, seed: int) -> None:
        for name in self.names.values():
            self._ip("netns", "add", name)
            self._made.append(name)
            self._ip("-n", name, "link", "set", "lo", "up")
        self._ip("-n", self.names["wan"], "addr", "add", f"{TURN_ADDRESS}/32", "dev", "lo")
        for side, number, up, down, seed_step in (
            ("a", 1, links.sender_up, links.sender_down, 1),
            ("b", 2, links.receiver_up, links.receiver_down, 2),
        ):
            nat, host, wan = (
                self.names[f"nat_{side}"],
                self.names[f"host_{side}"],
                self.names["wan"],
            )
            # The host's LAN: a veth pair between it and its NAT.
            lan, eth = f"ms{self._tag}l{side}", f"ms{self._tag}e{side}"
            self._ip("link", "add", lan, "netns", nat, "type", "veth", "peer", eth, "netns", host)
            self._ip("-n", nat, "addr", "add", f"10.{number}.0.1/24", "dev", lan)
            self._ip("-n", nat, "link", "set", lan, "up")
            self._ip("-n", host, "addr", "add", f"10.{number}.0.2/24", "dev", eth)
            self._ip("-n", host, "link", "set", eth, "up")
            self._ip("-n", host, "route", "add", "default", "via", f"10.{number}.0.1")
            # The NAT's uplink: two TUN devices joined by an emulated link.
            outside, inside = f"ms{self._tag}u{side}", f"ms{self._tag}w{side}"
            nat_fd, wan_fd = open_tun(outside), open_tun(inside)
            link = EmulatedLink(nat_fd, wan_fd, up, down, seed * 10 + seed_step)
            self._links.append(link)
            self._ip("link", "set", outside, "netns", nat)
            self._ip("link", "set", inside, "netns", wan)
            public, wan_side = f"198.18.{number}.2", f"198.18.{number}.1"
            self._ip("-n", nat, "addr", "add", public, "peer", wan_side, "dev", outside)
            self._ip("-n", nat, "link", "set", outside, "up")
            self._ip("-n", nat, "route", "add", "default", "dev", outside)
            self._ip("-n", wan, "addr", "add", wan_side, "peer", public, "dev", inside)
            self._ip("-n", wan, "link", "set", inside, "up")
            self._in(f"nat_{side}", "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward")
            self._in(
                f"nat_{side}",
                "iptables",
                "-t",
                "nat",
                "-A",
                "POSTROUTING",
                "-o",
                outside,
                "-j",
                "MASQUERADE",
            )
            # Unsolicited UDP for the NAT itself is dropped before its connection is tracked, as
            # a home router does: otherwise a peer's early check would claim the port mapping
            # the host's own packets need, and the NAT would pick another port.
            self._in(
                f"nat_{side}", "iptables", "-A", "INPUT", "-i", outside, "-p", "udp", "-j", "DROP"
            )
            link.start()
        self._in("wan", "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward")
        # Everything else the wan drops quietly (private addresses from host candidates).
        sink = f"ms{self._tag}sk"
        self._sink = DiscardingDevice(open_tun(sink))
        self._ip("link", "set", sink, "netns", self.names["wan"])
        self._ip("-n", self.names["wan"], "link", "set", sink, "up")
        self._ip("-n", self.names["wan"], "route", "add", "default", "dev", sink)
        self._sink.start()
        self._in(
            "nat_b", "iptables", "-t", "nat", "-A", "PREROUTING", "-i", f"ms{self._tag}ub",
            "-p", "tcp", "--dport", str(SIGNALING_PORT),
            "-j", "DNAT", "--to-destination", f"{RECEIVER_PRIVATE}:{SIGNALING_PORT}",
        )  # fmt: skip
        self._start_turn()

    def _start_turn(self) -> None:
        log = self.folder / "turn.log"
        self.spawn(
            "wan",
            [
                "turnserver", "-n", "--no-cli", "--no-tls", "--no-dtls", "--fingerprint",
                "--lt-cred-mech", f"--user={TURN_USER}:{self.turn_password}", "--realm=mirage-lab",
                f"--listening-ip={TURN_ADDRESS}", f"--relay-ip={TURN_ADDRESS}",
                f"--listening-port={TURN_PORT}", "--min-port=49152", "--max-port=65000",
                "--log-file=stdout", "--simple-log", "--no-software-attribute",
                f"--pidfile={self.folder / 'turn.pid'}", f"--userdb={self.folder / 'turndb'}",
            ],
            log,
        )  # fmt: skip
        # Ready when it answers a STUN binding request (RFC 8489: type 1, no attributes).
        probe = (
            "import os, socket\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.5)\n"
            "request = b'\\x00\\x01\\x00\\x00\\x21\\x12\\xa4\\x42' + os.urandom(12)\n"
            f"s.sendto(request, ('{TURN_ADDRESS}', {TURN_PORT}))\n"
            "try: print('ready' if s.recv(512)[:2] == b'\\x01\\x01' else 'odd')\n"
            "except OSError: print('silent')\n"
        )
        deadline = time.monotonic() + _STEP_TIMEOUT_S
        while self.python("wan", probe).strip() != "ready":
            if time.monotonic() > deadline or self._processes[-1].poll() is not None:
                raise RuntimeError(
                    f"coturn did not start: {log.read_text(errors='replace')[-800:]}"
                )

    # --- using ----------------------------------------------------------------------

    def spawn(self, role: str, argv: Sequence[str], log: Path) -> subprocess.Popen[bytes]:
        """``argv`` inside ``role``'s namespace, its output to ``log``, in its own process
        group (``close`` kills the group)."""
        with log.open("wb") as out:
            process = subprocess.Popen(
                ["ip", "netns", "exec", self.names[role], *argv],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._processes.append(process)
        return process

    def python(self, role: str, code: str, timeout_s: float = _STEP_TIMEOUT_S) -> str:
        """Run Python ``code`` inside ``role``'s namespace; its standard output."""
        done = subprocess.run(
            ["ip", "netns", "exec", self.names[role], sys.executable, "-c", code],
            capture_output=True,
            timeout=timeout_s,
            text=True,
        )
        return done.stdout

    def credential_file(self) -> Path:
        """USERNAME:PASSWORD for ``--ice-credential-file`` (mode 600)."""
        path = self.folder / "turn-credential"
        path.write_text(f"{TURN_USER}:{self.turn_password}\n")
        path.chmod(0o600)
        return path

    @property
    def links(self) -> tuple[EmulatedLink, ...]:
        """The sender's link, then the receiver's."""
        return tuple(self._links)

    def close(self) -> None:
        for process in reversed(self._processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGTERM)
        for process in reversed(self._processes):
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        self._processes.clear()
        # The links first: closing a TUN descriptor removes its device, wherever it is.
        for link in self._links:
            link.stop()
            for fd in link.fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._links.clear()
        if self._sink is not None:
            self._sink.stop()
            with contextlib.suppress(OSError):
                os.close(self._sink.fd)
            self._sink = None
        for name in reversed(self._made):
            subprocess.run(
                ["ip", "netns", "del", name], capture_output=True, timeout=_STEP_TIMEOUT_S
            )
        self._made.clear()
        shutil.rmtree(self.folder, ignore_errors=True)
