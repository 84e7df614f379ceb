"""One end-to-end run on a file: source -> sender -> link -> receiver -> files + report.json."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mirage_stream.compose import build_receiver_chain, build_sender_chain
from mirage_stream.errors import InputError, OutputError
from mirage_stream.feedback import FeedbackInbox
from mirage_stream.link.config import ChannelConfig
from mirage_stream.pipeline import DropPolicy, SegmentTrace, run_pipeline
from mirage_stream.player import FileSink, PlaybackClock
from mirage_stream.player.config import PlaybackConfig
from mirage_stream.receiver.config import ReceiverConfig
from mirage_stream.records import source_of
from mirage_stream.report import RunReport, build_report, finite_json
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sources.config import InputConfig
from mirage_stream.sources.stream import SegmentStream
from mirage_stream.types import GeneratedSegment


@dataclass(frozen=True)
class RunConfig:
    """Everything a run depends on, one config per component; saved as ``config.json``."""

    input: InputConfig
    out: Path
    sender: SenderConfig = field(default_factory=SenderConfig)
    channel: ChannelConfig = field(default_factory=ChannelConfig)
    receiver: ReceiverConfig = field(default_factory=ReceiverConfig)
    playback: PlaybackConfig = field(default_factory=PlaybackConfig)
    queue_size: int = 2  # between the other stages

    def __post_init__(self) -> None:
        if self.queue_size < 1:
            raise InputError(f"--queue-size must be at least 1, got {self.queue_size}")
        working = (self.input.width, self.input.height)
        if working != (self.receiver.width, self.receiver.height):
            raise InputError(
                f"the receiver generates at {self.receiver.width}x{self.receiver.height} but the "
                f"working size is {working[0]}x{working[1]}"
            )

    @staticmethod
    def add_arguments(
        parser: argparse.ArgumentParser, default_input: str | None = None, with_out: bool = True
    ) -> None:
        InputConfig.add_arguments(parser, default_input=default_input)
        if with_out:
            parser.add_argument("--out", default="out/run", help="output folder; default out/run")
        ChannelConfig.add_arguments(parser)
        SenderConfig.add_arguments(parser)
        ReceiverConfig.add_arguments(parser)
        PlaybackConfig.add_arguments(parser)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunConfig:
        return cls(
            input=InputConfig.from_args(args),
            out=Path(getattr(args, "out", "out/run")),
            sender=SenderConfig.from_args(args),
            channel=ChannelConfig.from_args(args),
            receiver=ReceiverConfig.from_args(args),
            playback=PlaybackConfig.from_args(args),
        )

    @classmethod
    def for_input(cls, input: str, out: Path, **components: Any) -> RunConfig:
        """A run of ``input`` with default components except those given by name."""
        return cls(input=InputConfig(input=input), out=out, **components)

    def to_json(self) -> dict[str, Any]:
        values: dict[str, Any] = finite_json(self)
        return values


@dataclass(frozen=True)
class RunResult:
    report: RunReport
    report_path: Path


async def run_file(
    config: RunConfig,
    on_segment: Callable[[SegmentTrace], None] | None = None,
    on_generated: Callable[[GeneratedSegment, SegmentTrace], None] | None = None,
) -> RunResult:
    """Run the whole chain on ``config.input`` and write the results into ``config.out``."""
    realtime = config.playback.realtime
    clock = PlaybackClock(config.playback.playout_delay_s) if realtime else None
    stream = SegmentStream(config.input, pacer=clock)
    feedback = FeedbackInbox()
    try:
        sender = build_sender_chain(config.sender, config.channel, feedback)
        receiver = build_receiver_chain(config.receiver, feedback, live=realtime)
    except BaseException:
        stream.close()
        raise
    try:
        _check_writable(config.out)
        sink = _NotifyingSink(FileSink(config.out), on_segment, clock, on_generated)
        start = time.perf_counter()
        result = await run_pipeline(
            stream.envelopes(),
            [*sender.steps(), *receiver.steps()],
            sink,
            queue_size=config.queue_size,
            policy=DropPolicy.BLOCK,
        )
        wall_s = time.perf_counter() - start
        report = build_report(
            config.to_json(),
            config.channel,
            stream,
            result,
            wall_s,
            receiver.generation_queue.max_depth,
        )
        (config.out / "config.json").write_text(json.dumps(config.to_json(), indent=2) + "\n")
        report_path = config.out / "report.json"
        report_path.write_text(json.dumps(report.to_json(), indent=2, allow_nan=False) + "\n")
    except OSError as error:  # the disk filled, the folder went read-only, ...
        stream.close()
        raise OutputError(f"--out {config.out}: cannot write ({error.strerror or error})") from None
    return RunResult(report=report, report_path=report_path)


def _check_writable(folder: Path) -> None:
    """Fail before any work when the output folder cannot be made or written."""
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / ".write-probe"
    probe.write_bytes(b"")
    probe.unlink()


@dataclass
class _NotifyingSink:
    """Wraps a sink to play each segment on the clock (when there is one) and to tell the
    caller (the CLI's progress line) when a segment is played."""

    inner: FileSink
    on_segment: Callable[[SegmentTrace], None] | None
    clock: PlaybackClock | None = None
    on_generated: Callable[[GeneratedSegment, SegmentTrace], None] | None = None

    async def consume(self, item: GeneratedSegment, trace: SegmentTrace) -> None:
        if self.clock is not None:
            segment = source_of(trace)
            assert segment is not None
            trace.attach(await self.clock.play(segment.t0, segment.duration))
        await self.inner.consume(item, trace)
        if self.on_generated is not None:
            self.on_generated(item, trace)
        if self.on_segment is not None:
            self.on_segment(trace)

    async def close(self) -> None:
        await self.inner.close()
