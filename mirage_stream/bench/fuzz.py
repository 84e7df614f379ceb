"""``bench fuzz``: random, mutated and bit-flipped inputs through every decoder and parser that
takes bytes from outside: payloads, live data-channel messages, signaling bodies (offers and
the page's reports) and profile files.

Each case is made from ``(seed, target, index)`` alone, so any failure is reproduced by its
number; each target's documented error type is the only acceptable failure: anything else is a
crash, a case over the time limit a hang. Cases run in worker processes (chunks of a sweep)
whose address space is capped, so a runaway allocation fails as MemoryError (a crash) instead
of taking the machine; decompression and msgpack bombs are among the mutations.
"""

from __future__ import annotations

import json
import resource
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import msgpack
import numpy as np

from mirage_stream.bench.fuzz_seeds import OFFER_SDP, message_seeds, payload_seeds
from mirage_stream.bench.sweep import Point, SweepConfig, run_points
from mirage_stream.errors import InputError, PayloadError

TARGETS = ("payload", "message", "offer", "shown", "profile")
CASE_LIMIT_S = 1.0  # a case taking longer is a hang
CHUNK = 20_000
ADDRESS_LIMIT_BYTES = 4 << 30  # each worker's address space
MAX_REPORTED = 5  # failures written out per chunk


@dataclass(frozen=True)
class FuzzConfig:
    cases: int = 1_000_000
    seed: int = 0
    out: Path = Path("fuzz-failures")
    sweep: SweepConfig = field(default_factory=lambda: SweepConfig(stall_s=600.0))

    def __post_init__(self) -> None:
        if not 1 <= self.cases <= 100_000_000:
            raise InputError(f"--cases must be in [1, 100000000], got {self.cases}")


# --- what each target parses, from what seeds (fuzz_seeds.py), failing how ---------------------


def _offer(raw: bytes) -> Any:
    from mirage_stream.live.signaling import parse_offer_body

    return parse_offer_body(raw, "application")


def _shown(raw: bytes) -> Any:
    from mirage_stream.live.signaling import parse_shown_body

    return parse_shown_body(raw)


def _profile(raw: bytes) -> Any:
    from mirage_stream.receiver.profile import profile_from_text

    return profile_from_text(raw.decode("utf-8", errors="replace"))


def _payload(raw: bytes) -> Any:
    """The payload decoded, and its reference chunk and face track taken as a receiver
    takes them (which must never raise: a bad part is a note)."""
    from mirage_stream.receiver.portrait import PortraitReceiver
    from mirage_stream.wire import decode_payload

    received = decode_payload(raw)
    payload = received.payload
    PortraitReceiver().take(payload.reference, payload.face_track, [])
    return received


def _message(raw: bytes) -> Any:
    from mirage_stream.live.messages import decode_message

    return decode_message(raw)


@dataclass(frozen=True)
class Target:
    parse: Callable[[bytes], Any]
    seeds: Callable[[], list[bytes]]
    errors: tuple[type[Exception], ...]  # the documented failures
    structured: bool  # msgpack inside: structure-aware mutations apply


def _targets() -> dict[str, Target]:
    from mirage_stream.live.signaling import BodyError

    profile = (
        b'[identity]\nmode = "substitute"\npersona = "a friendly robot"\n[style]\n'
        b'preset = "cinematic"\nlighting = "warm"\ncolour = "warm"\n'
        b'[safety]\nblocked_words = ["gun"]\nnegative_prompt = "blurry"\n'
    )
    return {
        "payload": Target(_payload, payload_seeds, (PayloadError,), True),
        "message": Target(_message, message_seeds, (PayloadError,), True),
        "offer": Target(
            _offer,
            lambda: [json.dumps({"sdp": OFFER_SDP, "type": "offer"}).encode()],
            (BodyError,),
            False,
        ),
        "shown": Target(
            _shown, lambda: [b'{"mark": 3, "shown_at": 1795766811.95}'], (BodyError,), False
        ),
        "profile": Target(_profile, lambda: [profile], (InputError,), False),
    }


# --- mutations ------------------------------------------------------------------------------


def _random_value(rng: np.random.Generator, depth: int = 0) -> Any:
    kind = int(rng.integers(0, 9))
    if kind == 0:
        return int(rng.choice([-(2**63), -1, 0, 1, 2**31, 2**32 + 7, 2**63 - 1, 2**64 - 1]))
    if kind == 1:
        return float(rng.choice([float("nan"), float("inf"), -float("inf"), -1e308, 1e-320, 0.5]))
    if kind == 2:
        return bytes(rng.integers(0, 256, int(rng.choice([0, 1, 17, 4096, 300_000])), np.uint8))
    if kind == 3:
        return "é" * int(rng.choice([0, 1, 40, 70_000]))
    if kind == 4 and depth < 3:
        return [_random_value(rng, depth + 1) for _ in range(int(rng.integers(0, 5)))]
    if kind == 5:
        return None
    if kind == 6:
        return bool(rng.integers(0, 2))
    if kind == 7 and depth < 3:
        return {str(i): _random_value(rng, depth + 1) for i in range(int(rng.integers(0, 3)))}
    return int(rng.integers(-1000, 1000))


def _replace_leaf(value: Any, rng: np.random.Generator) -> Any:
    if isinstance(value, list) and value and rng.random() < 0.8:
        copy = list(value)
        at = int(rng.integers(0, len(copy)))
        copy[at] = _replace_leaf(copy[at], rng)
        return copy
    return _random_value(rng)


def _bomb(target: str, rng: np.random.Generator) -> bytes:
    choice = int(rng.integers(0, 4))
    if choice == 0:  # a msgpack array header claiming four billion items
        return b"\xdd\xff\xff\xff\xff" + bytes(16)
    if choice == 1:  # nesting a hundred thousand deep
        return b"\x91" * 100_000 + b"\xc0" if target in ("payload", "message") else b"[" * 100_000
    if choice == 2:  # a caption that inflates to 64 MB
        return _zlib_bomb()
    return bytes(int(rng.integers(1, 8))) * 2_000_000  # a big body of nothing


@lru_cache(maxsize=1)
def _zlib_bomb() -> bytes:
    blob = zlib.compress(bytes(64 << 20), 9)
    return bytes(msgpack.packb([1, [blob, zlib.crc32(blob)], 0, 0]))


def make_case(target: str, seeds: list[bytes], structured: bool, seed: int, index: int) -> bytes:
    """Case ``index`` of ``target``: the same bytes every time for the same seed."""
    rng = np.random.default_rng([seed, TARGETS.index(target), index])
    base = seeds[int(rng.integers(0, len(seeds)))]
    roll = rng.random()
    if roll < 0.08:
        return bytes(rng.integers(0, 256, int(rng.integers(0, 2048)), np.uint8))
    if roll < 0.45:
        data = bytearray(base)
        for _ in range(int(rng.integers(1, 17))):
            if data:
                at = int(rng.integers(0, len(data) * 8))
                data[at // 8] ^= 1 << (at % 8)
        return bytes(data)
    if roll < 0.60:
        cut = int(rng.integers(0, len(base) + 1))
        tail = bytes(rng.integers(0, 256, int(rng.integers(0, 64)), np.uint8))
        return base[:cut] + (tail if rng.random() < 0.5 else b"")
    if roll < 0.70:
        a, b = sorted(int(x) for x in rng.integers(0, len(base) + 1, 2))
        return base[:a] + base[a:b] * int(rng.integers(0, 4)) + base[b:]
    if roll < 0.92 and structured:
        try:
            value = msgpack.unpackb(base, raw=False, strict_map_key=False)
            return bytes(msgpack.packb(_replace_leaf(value, rng), use_bin_type=True))
        except (ValueError, msgpack.ExtraData, TypeError, OverflowError):
            return base
    if roll < 0.92:
        text = base.decode("utf-8", errors="replace")
        at = int(rng.integers(0, len(text) + 1))
        junk = str(rng.choice(['"', "\\", "\x00", "}", "]", "[[", "=", "\r\n", "9" * 400, "é"]))
        return (text[:at] + junk * int(rng.integers(1, 50)) + text[at:]).encode()
    return _bomb(target, rng)


# --- running ---------------------------------------------------------------------------------


def run_chunk(point: Point) -> dict[str, Any]:
    """A sweep point: ``count`` cases of one target from ``start``, under a cap on the
    address space that is lifted again afterwards: the local engine runs chunks in the
    caller's own process, whose later work (a test suite, model interpreters that reserve
    address space) must not inherit the cap."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY or soft > ADDRESS_LIMIT_BYTES:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_LIMIT_BYTES, hard))
    try:
        return _fuzz_chunk(point)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _fuzz_chunk(point: Point) -> dict[str, Any]:
    target_name = str(point.get("target"))
    target = _targets()[target_name]
    seeds = target.seeds()
    for warm_up in seeds:  # first-use imports are not the parser's time
        target.parse(warm_up)
    seed, start, count = int(point.get("seed")), int(point.get("start")), int(point.get("count"))
    crashes, hangs, slowest = 0, 0, 0.0
    failures: list[dict[str, Any]] = []
    for index in range(start, start + count):
        data = make_case(target_name, seeds, target.structured, seed, index)
        began = time.perf_counter()
        problem = None
        try:
            target.parse(data)
        except target.errors:
            pass
        except Exception as error:  # anything else is a crash, MemoryError included
            crashes += 1
            problem = f"{type(error).__name__}: {error}"[:500]
        spent = time.perf_counter() - began
        slowest = max(slowest, spent)
        if spent > CASE_LIMIT_S:
            hangs += 1
            problem = problem or f"took {spent:.2f} s (limit {CASE_LIMIT_S} s)"
        if problem and len(failures) < MAX_REPORTED:
            failures.append({"index": index, "problem": problem, "input": data[:100_000].hex()})
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "cases": count,
        "crashes": crashes,
        "hangs": hangs,
        "slowest_s": slowest,
        "max_rss_mb": rss_mb,
        "failures": failures,
    }


@dataclass(frozen=True)
class FuzzResult:
    """``bench reliability --fuzz --json``: malformed inputs thrown at every decoder."""

    cases: int
    crashes: int
    hangs: int
    max_rss_mb: float
    targets: dict[str, dict[str, float]]  # per target: cases, crashes, hangs, slowest_s
    failures: list[str]  # the failing inputs written, with how to run them again
    seed: int
    wall_s: float


def bench_fuzz(config: FuzzConfig) -> FuzzResult:
    start = time.perf_counter()
    per_target = config.cases // len(TARGETS)
    points = []
    for number, target in enumerate(TARGETS):
        count = per_target + (1 if number < config.cases % len(TARGETS) else 0)
        for begin in range(0, count, CHUNK):
            points.append(
                Point.of(
                    "fuzz",
                    target=target,
                    seed=config.seed,
                    start=begin,
                    count=min(CHUNK, count - begin),
                )
            )
    results = run_points(points, run_chunk, config.sweep)
    failures = []
    by_target: dict[str, dict[str, float]] = {}
    for point, result in results.items():
        name = str(point.get("target"))
        totals = by_target.setdefault(
            name, {"cases": 0, "crashes": 0, "hangs": 0, "slowest_s": 0.0}
        )
        for key in ("cases", "crashes", "hangs"):
            totals[key] += result[key]
        totals["slowest_s"] = max(totals["slowest_s"], round(result["slowest_s"], 4))
        failures += [f | {"target": name} for f in result["failures"]]
    written = _write_failures(failures[:20], config.out)
    return FuzzResult(
        cases=sum(int(t["cases"]) for t in by_target.values()),
        crashes=sum(int(t["crashes"]) for t in by_target.values()),
        hangs=sum(int(t["hangs"]) for t in by_target.values()),
        max_rss_mb=round(max(r["max_rss_mb"] for r in results.values()), 1),
        targets=by_target,
        failures=written,
        seed=config.seed,
        wall_s=round(time.perf_counter() - start, 1),
    )


def _write_failures(failures: list[dict[str, Any]], folder: Path) -> list[str]:
    """Each failure as FOLDER/TARGET-INDEX.bin (the input) and .txt (what happened, and how to
    run it again)."""
    if not failures:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for failure in failures:
        stem = folder / f"{failure['target']}-{failure['index']}"
        stem.with_suffix(".bin").write_bytes(bytes.fromhex(failure["input"]))
        stem.with_suffix(".txt").write_text(
            f"{failure['problem']}\nreproduce: mirage_stream.bench.fuzz.make_case("
            f"'{failure['target']}', ...) with the same --seed, index {failure['index']}\n"
        )
        written.append(str(stem.with_suffix(".bin")))
    return written
