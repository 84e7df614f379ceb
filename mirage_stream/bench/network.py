"""``bench network``: one live call between two machines behind two NATs (``netlab``), over
emulated access links with a named profile, direct (through STUN) or forced through the TURN
relay.

The sender runs ``mirage-stream send`` in ``host_a``, the receiver ``mirage-stream receive`` in
``host_b``, as two processes, exactly as two users would. The profile is the sender's access
network: its loss and rate limit on the sender's link (both directions), its round trip split
over both links. The simulated radio channel is set clean (``--snr-db 40``: no bit errors), so
every damaged keyframe comes from packets the network lost.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mirage_stream.bench.link_emulator import LinkProfile
from mirage_stream.bench.netlab import (
    RECEIVER_PRIVATE,
    RECEIVER_PUBLIC,
    SIGNALING_PORT,
    TURN_ADDRESS,
    TURN_PORT,
    LabLinks,
    NetworkLab,
)
from mirage_stream.errors import InputError

CLEAN_SNR_DB = 40.0
_START_TIMEOUT_S = 180.0  # a cold start imports torch and loads the detectors
_END_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class NetworkProfile:
    """An access network: round trip, jitter, random loss and rate."""

    name: str
    rtt_s: float
    jitter_s: float
    loss: float
    rate_bps: float | None
    stands_for: str

    def links(self) -> LabLinks:
        """Half the round trip on each access link (a quarter each way); loss and rate on the
        sender's."""
        quiet = LinkProfile(delay_s=self.rtt_s / 4, jitter_s=self.jitter_s / 2)
        access = LinkProfile(
            delay_s=self.rtt_s / 4,
            jitter_s=self.jitter_s / 2,
            loss=self.loss,
            rate_bps=self.rate_bps,
        )
        return LabLinks(
            sender_up=access, sender_down=access, receiver_up=quiet, receiver_down=quiet
        )


PROFILES = {
    profile.name: profile
    for profile in (
        NetworkProfile(
            "broadband", 0.020, 0.002, 0.0, None, "home fibre or cable: 20 ms round trip"
        ),
        NetworkProfile(
            "mobile", 0.100, 0.010, 0.01, 1_000_000, "a phone on 4G: 100 ms, 1% loss, 1 Mbit/s"
        ),
        NetworkProfile(
            "bad", 0.300, 0.030, 0.05, 256_000, "a weak cell edge: 300 ms, 5% loss, 256 kbit/s"
        ),
    )
}


@dataclass(frozen=True)
class NetworkBenchConfig:
    profile: str = "mobile"
    relay: bool = False  # only relayed candidates: the call goes through TURN
    seconds: float = 30.0  # of video sent
    input: str = "sample:carphone"
    segment_s: float = 2.0
    seed: int = 0
    extra_sender_args: tuple[str, ...] = ()  # any `send` option, as on its command line
    extra_receiver_args: tuple[str, ...] = field(default=())
    screenshot: Path | None = None  # the playback page in the receiver's namespace, mid-call

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise InputError(f"--profile must be one of {', '.join(PROFILES)}, got {self.profile}")
        if not 2 <= self.seconds <= 3600:
            raise InputError(f"--seconds must be in [2, 3600], got {self.seconds}")


@dataclass(frozen=True)
class NetworkBenchResult:
    """``bench network --json``."""

    profile: str
    relay_forced: bool
    seconds: float
    segment_s: float
    segments_sent: int
    segments_received: int  # by the receiver, whole or with keyframe chunks missing
    segments_played: int
    segments_lost: int  # sent but never played, whatever the reason
    keyframes_damaged: int  # by packets the network lost (the radio channel is clean)
    damaged_keyframes_decoded: int  # of those, decoded to a picture all the same
    g2g_p50_s: float | None
    g2g_p95_s: float | None  # nearest rank over the call's segments
    candidate_type: str | None  # host, srflx, prflx or relay: the call's selected pair
    rtt_ms: float | None  # the call's measured round trip (SCTP's smoothed estimate)
    wire_bytes_per_segment: float | None  # every byte the sender's machine sent, per segment
    packets_lost_on_link: int  # dropped by the emulated links (random loss and full queues)
    call_state: str | None
    sender_log_tail: str = ""  # where something went wrong: the ends' last words
    receiver_log_tail: str = ""


def _tail(path: Path, chars: int = 1500) -> str:
    return path.read_text(errors="replace")[-chars:] if path.exists() else ""


_FETCH = """
import json, sys, urllib.request
request = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})
try:
    print(urllib.request.urlopen(request, timeout=5).read().decode())
except Exception as error:
    print(json.dumps({"error": str(error)}))
"""


def _receiver_stats(lab: NetworkLab, token: str) -> dict[str, Any]:
    url = f"http://{RECEIVER_PRIVATE}:{SIGNALING_PORT}/stats"
    code = f"import sys; sys.argv = ['', {url!r}, {token!r}]\n" + _FETCH
    try:
        return dict(json.loads(lab.python("host_b", code) or "{}"))
    except ValueError:
        return {}


def _wait(condition: Any, timeout_s: float, step_s: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step_s)
    return False


def bench_network(config: NetworkBenchConfig) -> NetworkBenchResult:
    profile = PROFILES[config.profile]
    with NetworkLab(profile.links(), seed=config.seed) as lab:
        ice = [
            "--ice-server", f"stun:{TURN_ADDRESS}:{TURN_PORT}",
            "--ice-server", f"turn:{TURN_ADDRESS}:{TURN_PORT}?transport=udp",
            "--ice-credential-file", str(lab.credential_file()),
            *(["--ice-relay-only"] if config.relay else []),
        ]  # fmt: skip
        program = [sys.executable, "-m", "mirage_stream"]
        token_file = lab.folder / "token"
        receiver_log, sender_log = lab.folder / "receiver.log", lab.folder / "sender.log"
        receiver = lab.spawn(
            "host_b",
            [
                *program, "receive", "--host", RECEIVER_PRIVATE, "--allow-remote",
                "--port", str(SIGNALING_PORT), "--token-file", str(token_file),
                *ice, *config.extra_receiver_args,
            ],
            receiver_log,
        )  # fmt: skip
        if not _wait(lambda: token_file.exists() or receiver.poll() is not None, _START_TIMEOUT_S):
            raise RuntimeError(f"the receiver did not start: {_tail(receiver_log)}")
        if receiver.poll() is not None:
            raise RuntimeError(f"the receiver stopped: {_tail(receiver_log)}")
        token = token_file.read_text().strip()
        sender_link = lab.links[0].forward.counts
        bytes_before = sender_link.bytes
        sender = lab.spawn(
            "host_a",
            [
                *program, "send", "--receiver", f"http://{RECEIVER_PUBLIC}:{SIGNALING_PORT}",
                "--token-file", str(token_file), "--input", config.input, "--loop",
                "--seconds", str(config.seconds), "--segment-s", str(config.segment_s),
                "--snr-db", str(CLEAN_SNR_DB), "--seed", str(config.seed),
                *ice, *config.extra_sender_args,
            ],
            sender_log,
        )  # fmt: skip
        if config.screenshot is not None:
            _screenshot(lab, token, config.screenshot)
        _wait(lambda: sender.poll() is not None, config.seconds * 3 + _START_TIMEOUT_S)
        if sender.poll() is None:
            sender.terminate()
        counts = _last_json_line(sender_log)
        sent = int(counts.get("segments_sent", 0))
        wire_bytes = sender_link.bytes - bytes_before
        stats: dict[str, Any] = {}

        def call_ended() -> bool:
            stats.update(_receiver_stats(lab, token))
            return bool(stats.get("ended_calls")) and not stats.get("calls")

        _wait(call_ended, _END_TIMEOUT_S, step_s=1.0)
        calls = [*stats.get("ended_calls", []), *stats.get("calls", [])]
        call = calls[-1] if calls else {}
        connection = call.get("connection") or {}
        played = int(call.get("segments_played", 0))
        lost_packets = sum(
            direction.counts.lost + direction.counts.queue_dropped
            for link in lab.links
            for direction in (link.forward, link.backward)
        )
        return NetworkBenchResult(
            profile=profile.name,
            relay_forced=config.relay,
            seconds=config.seconds,
            segment_s=config.segment_s,
            segments_sent=sent,
            segments_received=int(call.get("segments_received", 0)),
            segments_played=played,
            segments_lost=max(sent - played, 0),
            keyframes_damaged=int(call.get("keyframes_damaged", 0)),
            damaged_keyframes_decoded=int(call.get("damaged_keyframes_decoded", 0)),
            g2g_p50_s=call.get("g2g_p50_s"),
            g2g_p95_s=call.get("g2g_p95_s"),
            candidate_type=connection.get("candidate_type"),
            rtt_ms=connection.get("rtt_ms"),
            wire_bytes_per_segment=round(wire_bytes / sent, 1) if sent else None,
            packets_lost_on_link=lost_packets,
            call_state=call.get("state"),
            sender_log_tail="" if sent and played else _tail(sender_log),
            receiver_log_tail="" if sent and played else _tail(receiver_log),
        )


def _screenshot(lab: NetworkLab, token: str, out: Path) -> None:
    """Once the call plays, the playback page as a viewer beside the receiver sees it."""

    def playing() -> bool:
        calls = _receiver_stats(lab, token).get("calls", [])
        return bool(calls) and int(calls[-1].get("segments_played", 0)) >= 2

    _wait(playing, _START_TIMEOUT_S, step_s=1.0)
    url = f"http://{RECEIVER_PRIVATE}:{SIGNALING_PORT}/#token={token}"
    shot = lab.folder / "page.png"
    code = (
        "import sys; from mirage_stream.bench.page_shot import main; "
        f"sys.argv = ['page_shot', {url!r}, {str(shot)!r}]; raise SystemExit(main())"
    )
    lab.python("host_b", code, timeout_s=120)
    if shot.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(shot.read_bytes())


def _last_json_line(path: Path) -> dict[str, Any]:
    """The sender's closing counts: the last line of its output that parses as a JSON object."""
    for line in reversed(path.read_text(errors="replace").splitlines() if path.exists() else []):
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return {}
