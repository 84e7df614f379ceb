"""The one place that turns component configs into pipeline steps.

A run on a file, the live sender and the live receiver are the same chain cut at different
points and fed from different ends:

    run:            file   -> [sender, link, decode, (generation queue), generate] -> files
    live sender:    camera -> [sender, link]                                       -> data channels
    live receiver:  data channels -> [decode, (generation queue), generate]        -> video track

so a flag that works in one works in all, and every bench builds its chain here too.
"""

from __future__ import annotations

from dataclasses import dataclass

from mirage_stream.feedback import FeedbackInbox
from mirage_stream.link import SimulatedLinkStage
from mirage_stream.link.config import ChannelConfig
from mirage_stream.pipeline import LIVE_TRACE_HISTORY, BoundedQueue, DropPolicy, Stage
from mirage_stream.receiver import DecodeStage, GenerateStage
from mirage_stream.receiver.config import ReceiverConfig
from mirage_stream.receiver.generation_rate import GenerationRateAdapter
from mirage_stream.receiver.generator_backends import build_generator
from mirage_stream.receiver.generators import Generator
from mirage_stream.receiver.portrait import PortraitComposer, PortraitReceiver
from mirage_stream.scheduling import PartyRunner
from mirage_stream.sender.airtime_adapter import LinkModel
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sender.factory import build_sender
from mirage_stream.sender.sender import SenderStage

GENERATION_SKIP_REASON = "skipped: generation fell behind and a newer segment was waiting"


@dataclass(frozen=True)
class SenderChain:
    sender: SenderStage
    link: SimulatedLinkStage

    def steps(self) -> list[Stage | BoundedQueue]:
        return [self.sender, self.link]


@dataclass(frozen=True)
class ReceiverChain:
    decode: DecodeStage
    generation_queue: BoundedQueue
    generate: GenerateStage

    def steps(self) -> list[Stage | BoundedQueue]:
        return [self.decode, self.generation_queue, self.generate]


def build_sender_chain(
    sender: SenderConfig,
    channel: ChannelConfig,
    feedback: FeedbackInbox | None = None,
    *,
    live: bool = False,
    runner: PartyRunner | None = None,
) -> SenderChain:
    """The sender and the simulated channel its bits go through; the rate adapter (when on)
    models exactly that channel. ``live``: the sender sheds work when behind real time.
    ``runner``: where the stages' work runs (a server of many calls shares one)."""
    awgn = channel.channel()
    model = LinkModel(
        bandwidth_hz=awgn.bandwidth_hz,
        ber_model=awgn.ber_model,
        per_try_overhead_s=awgn.per_payload_overhead_s,
        max_tries=awgn.max_tries,
    )
    stage = build_sender(sender, feedback, model, initial_snr_db=channel.snr_db, live=live)
    stage.runner = runner
    return SenderChain(
        sender=stage,
        link=SimulatedLinkStage(awgn, channel.snr(), seed=channel.seed, runner=runner),
    )


def build_receiver_chain(
    config: ReceiverConfig,
    feedback: FeedbackInbox | None = None,
    *,
    live: bool = False,
    generator: Generator | None = None,
    runner: PartyRunner | None = None,
) -> ReceiverChain:
    """Decode, the generation queue and generate. ``live``: the queue drops its oldest segment
    when generation falls behind (a file run waits instead), and a generator that adapts its
    rate (diffusion) has its steps and size set by the rate adapter. ``generator``: one
    already loaded (a server shares one model among its calls); else built from the config.
    ``runner``: where the stages' work runs (a server shares one among its calls)."""
    generator = generator or build_generator(config.generator, config.generator_options)
    adapter = None
    if live and config.rate_adapter and generator.adapts_rate:
        adapter = GenerationRateAdapter()
    queue: BoundedQueue = BoundedQueue(
        config.generation_queue,
        DropPolicy.DROP_OLDEST if live else DropPolicy.BLOCK,
        drop_reason=GENERATION_SKIP_REASON,
        history=LIVE_TRACE_HISTORY if live else None,
    )
    return ReceiverChain(
        decode=DecodeStage(
            width=config.width,
            height=config.height,
            feedback=feedback,
            damaged_keyframes=config.damaged_keyframes,
            portrait=PortraitReceiver() if config.reenact else None,
            runner=runner,
        ),
        generation_queue=queue,
        generate=GenerateStage(
            generator,
            config.profile,
            width=config.width,
            height=config.height,
            keyframe_strength=config.keyframe_strength,
            steps=config.steps,
            guidance=config.guidance,
            drop_late=live,
            seed=config.seed,
            rate_adapter=adapter,
            composer=PortraitComposer() if config.reenact else None,
            runner=runner,
        ),
    )
