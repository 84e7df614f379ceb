"""ICE configuration for every peer connection of a live call, and the path a connected one
took.

Two machines behind different NATs only meet through a STUN server (each learns its public
address: a server-reflexive candidate) or, when a NAT maps each destination differently, a
TURN relay (RFC 8656). ``IceConfig`` names them once, from ``--ice-server`` and its credential
flags; the Python peers (aiortc) and the pages (which fetch it from their server) use the same.
Without a server only host candidates are offered: aiortc would otherwise ask a public STUN
server nobody named, which fails offline and tells a third party about the call.

TURN credentials are never printed: ``IceServer``'s repr masks them and no error quotes them.
The pages need them to reach the relay, so their server hands them out behind the bearer token.
"""

from __future__ import annotations

import argparse
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiortc import RTCConfiguration, RTCIceServer, RTCPeerConnection
from aiortc.rtcconfiguration import RTCIceTransportPolicy

from mirage_stream.errors import InputError

log = logging.getLogger(__name__)

# RFC 7064 (stun:, stuns:) and RFC 7065 (turn:, turns:) URIs; aiortc speaks stun, turn over UDP
# or TCP, and turns over TCP (TLS).
_URL = re.compile(
    r"(?P<scheme>stun|turn|turns):(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)"
    r"(?::(?P<port>[0-9]{1,5}))?(?:\?transport=(?P<transport>udp|tcp))?"
)
_DEFAULT_PORTS = {"stun": 3478, "turn": 3478, "turns": 5349}
# The selected pair's type, the more indirect end's: a relay anywhere means the media is relayed.
_INDIRECTNESS = ("host", "prflx", "srflx", "relay")


@dataclass(frozen=True)
class IceServer:
    """One STUN or TURN server. ``credential`` never shows in repr (logs, tracebacks)."""

    url: str
    username: str | None = None
    credential: str | None = field(default=None, repr=False)

    @property
    def scheme(self) -> str:
        return self.url.split(":", 1)[0]

    @property
    def is_turn(self) -> bool:
        return self.scheme in ("turn", "turns")


def parse_ice_url(url: str) -> str:
    """``url`` checked (scheme, host, port, transport); InputError names what is wrong."""
    match = _URL.fullmatch(url.strip())
    if match is None:
        raise InputError(
            f"--ice-server {url!r}: expected stun:HOST[:PORT], turn:HOST[:PORT][?transport=udp|tcp]"
            " or turns:HOST[:PORT][?transport=tcp]"
        )
    port = match["port"]
    if port is not None and not 1 <= int(port) <= 65535:
        raise InputError(f"--ice-server {url!r}: port {port} is not in 1..65535")
    if match["transport"] and match["scheme"] == "stun":
        raise InputError(f"--ice-server {url!r}: stun: takes no ?transport=")
    if match["scheme"] == "turns" and match["transport"] == "udp":
        raise InputError(f"--ice-server {url!r}: turns: runs over TCP (TLS) only")
    return url.strip()


@dataclass(frozen=True)
class IceConfig:
    """The STUN and TURN servers every peer connection uses, and whether only relayed
    candidates may carry the call (``relay_only``: forces the TURN path)."""

    servers: tuple[IceServer, ...] = ()
    relay_only: bool = False

    def __post_init__(self) -> None:
        for server in self.servers:
            parse_ice_url(server.url)
            if server.is_turn and not (server.username and server.credential):
                raise InputError(
                    f"--ice-server {server.url}: a TURN server needs --ice-username and "
                    "--ice-credential-file (or --ice-credential)"
                )
        if self.relay_only and not any(server.is_turn for server in self.servers):
            raise InputError("--ice-relay-only needs a turn: or turns: --ice-server")

    def rtc_configuration(self) -> RTCConfiguration:
        """For aiortc. It uses the first STUN and the first TURN server only (the pages use
        them all)."""
        first: dict[str, IceServer] = {}
        for server in self.servers:
            first.setdefault("turn" if server.is_turn else "stun", server)
        if len(first) < len(self.servers):
            log.info(
                "aiortc uses one STUN and one TURN server: %s",
                sorted(s.url for s in first.values()),
            )
        return RTCConfiguration(
            iceServers=[
                RTCIceServer(
                    urls=server.url, username=server.username, credential=server.credential
                )
                for server in first.values()
            ],
            iceTransportPolicy=RTCIceTransportPolicy.RELAY
            if self.relay_only
            else RTCIceTransportPolicy.ALL,
        )

    def peer_connection(self) -> RTCPeerConnection:
        return RTCPeerConnection(configuration=self.rtc_configuration())

    def page_json(self) -> dict[str, Any]:
        """The browser's ``RTCConfiguration`` (served behind the token: it holds credentials)."""
        servers: list[dict[str, Any]] = []
        for server in self.servers:
            entry: dict[str, Any] = {"urls": [server.url]}
            if server.is_turn:
                entry |= {"username": server.username, "credential": server.credential}
            servers.append(entry)
        return {"iceServers": servers, "iceTransportPolicy": "relay" if self.relay_only else "all"}

    def describe(self) -> str:
        """For start-up lines: the servers' URLs, never a credential."""
        if not self.servers:
            return "no STUN or TURN server (host candidates only)"
        urls = ", ".join(server.url for server in self.servers)
        return urls + (" (relay only)" if self.relay_only else "")

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        group = parser.add_argument_group(
            "ICE (calls across NATs)",
            "Without a server only host candidates are offered: enough on one machine or one "
            "network. Across NATs give a STUN server; where a NAT maps each destination anew "
            "(many phone networks), a TURN server as well.",
        )
        group.add_argument(
            "--ice-server",
            action="append",
            default=[],
            metavar="URL",
            help="stun:HOST[:PORT], turn:HOST[:PORT][?transport=udp|tcp] or turns:HOST[:PORT]; "
            "repeat for more",
        )
        group.add_argument("--ice-username", default=None, help="the TURN servers' username")
        group.add_argument(
            "--ice-credential",
            default=None,
            help="the TURN servers' password (other users of this machine can read the command "
            "line: prefer --ice-credential-file)",
        )
        group.add_argument(
            "--ice-credential-file",
            default=None,
            metavar="FILE",
            help="file whose first line is PASSWORD or USERNAME:PASSWORD for the TURN servers",
        )
        group.add_argument(
            "--ice-relay-only",
            action="store_true",
            help="carry the call only through the TURN relay (no direct or STUN path)",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> IceConfig:
        username, credential = args.ice_username, args.ice_credential
        if args.ice_credential_file:
            file_username, credential = _read_credential_file(Path(args.ice_credential_file))
            username = username or file_username
        servers = tuple(
            IceServer(url, username, credential)
            if url.startswith("turn")
            else IceServer(parse_ice_url(url))
            for url in args.ice_server
        )
        return cls(servers, relay_only=args.ice_relay_only)


def _read_credential_file(path: Path) -> tuple[str | None, str]:
    """(username or None, password) from the file's first line; errors never quote it."""
    try:
        lines = path.read_text().splitlines()
    except OSError as error:
        raise InputError(f"--ice-credential-file {path}: {error.strerror}") from None
    line = lines[0].strip() if lines else ""
    if not line:
        raise InputError(f"--ice-credential-file {path}: the first line is empty")
    username, colon, password = line.partition(":")
    return (username, password) if colon and username and password else (None, line)


@dataclass(frozen=True)
class IcePath:
    """The candidate pair a connected peer connection selected, and its measured round trip."""

    candidate_type: str  # host, prflx, srflx or relay: the more indirect end's
    local_type: str
    remote_type: str
    local_address: str
    remote_address: str
    rtt_ms: float | None  # SCTP's smoothed round trip (RFC 4960 6.3.1); None before a sample

    def as_json(self) -> dict[str, Any]:
        return {
            "candidate_type": self.candidate_type,
            "local_candidate": f"{self.local_type} {self.local_address}",
            "remote_candidate": f"{self.remote_type} {self.remote_address}",
            "rtt_ms": self.rtt_ms,
        }


def selected_path(pc: RTCPeerConnection) -> IcePath | None:
    """The nominated pair of ``pc``'s transport (None until ICE has chosen one).

    aiortc exposes no getStats() entry for the pair, so this reads its ICE transport's aioice
    connection and the SCTP association's round-trip estimate; ``tests/test_ice.py`` pins both
    on a real loopback connection.
    """
    sctp = pc.sctp
    dtls = sctp.transport if sctp is not None else None
    if dtls is None:
        dtls = next((t.receiver.transport for t in pc.getTransceivers()), None)
    connection = getattr(getattr(dtls, "transport", None), "_connection", None)
    nominated = getattr(connection, "_nominated", {})
    pair = nominated.get(1) if isinstance(nominated, dict) else None
    if pair is None:
        return None
    local, remote = pair.local_candidate, pair.remote_candidate
    worst = max(_INDIRECTNESS.index(local.type), _INDIRECTNESS.index(remote.type))
    srtt = getattr(sctp, "_srtt", None)
    return IcePath(
        candidate_type=_INDIRECTNESS[worst],
        local_type=local.type,
        remote_type=remote.type,
        local_address=f"{local.host}:{local.port}",
        remote_address=f"{remote.host}:{remote.port}",
        rtt_ms=round(srtt * 1000, 1) if srtt is not None else None,
    )
