"""In-process link stage: encode the payload, pass its bits through channel_sim, deliver bytes.

Keyframe symbol bits travel best-effort and take bit flips at the channel's BER (unless the
sender marked them protected); header, caption, hints and framing go through channel_sim's
reliable chain (CRC, Reed-Solomon, repetition sized to the BER, ARQ), whose every bit and retry
is charged to time on air.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from channel_sim import AwgnBitChannel, SnrProcess
from mirage_stream.codecs import CodecError, codec_for
from mirage_stream.pipeline import SegmentTrace, off_loop
from mirage_stream.records import LinkRecord
from mirage_stream.scheduling import PartyRunner
from mirage_stream.types import EncodedKeyframe, LinkReport, SemanticPayload
from mirage_stream.wire import encode_payload_image


@dataclass(frozen=True)
class Delivery:
    """Bytes as they arrive at the receiver, with what the link did to them."""

    data: bytes | None  # None: lost (the protected part failed every try)
    report: LinkReport
    # Where the keyframe symbols lie in ``data`` (offset, length): the best-effort part, which
    # a transport may send apart from the rest (the live link's unreliable channel).
    spans: tuple[tuple[int, int], ...] = ()


@dataclass
class SimulatedLinkStage:
    """Applies ``channel`` at the SNR that ``snr`` gives for each segment index."""

    channel: AwgnBitChannel
    snr: SnrProcess
    seed: int = 0
    runner: PartyRunner | None = None  # a server of many calls: oldest segment first
    name: str = "link"
    _rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def transmit(self, payload: SemanticPayload, trace: SegmentTrace) -> Delivery:
        image = encode_payload_image(payload)
        # Protected keyframes ride the reliable path with the rest: nothing is exposed.
        spans = () if payload.keyframes_protected else image.exposed_spans
        sent = self.channel.send(
            image.data,
            self.snr.snr_db(payload.segment_index),
            self._rng,
            spans,
            keyframe_fec_parity=payload.keyframe_fec_parity,
        )
        report = LinkReport(
            snr_db=sent.snr_db,
            ber=sent.ber,
            bits_sent=sent.bits_sent,
            bits_exposed=sent.bits_exposed,
            bit_errors=sent.bit_errors,
            time_on_air_s=sent.time_on_air_s,
            delivered=sent.delivered,
            channel_bits=sent.protected_channel_bits + sent.exposed_channel_bits,
            tries=sent.tries,
            residual_block_error=sent.residual_block_error,
            packets_sent=sent.packets_sent,
            packets_lost=sent.packets_lost,
            damaged_symbols=()
            if payload.keyframes_protected
            else tuple(
                _damaged_symbols(keyframe, bits)
                for keyframe, bits in zip(payload.keyframes, sent.exposed_error_bits, strict=True)
            ),
        )
        trace.attach(LinkRecord(report, {**image.part_bytes, "total": len(image.data)}))
        return Delivery(data=sent.received, report=report, spans=tuple(spans))

    async def process(self, payload: SemanticPayload, trace: SegmentTrace) -> Delivery:
        # Reed-Solomon decoding of the protected part takes milliseconds: keep it off the loop.
        return await off_loop(trace, self.name, self.transmit, payload, trace, runner=self.runner)


def _damaged_symbols(keyframe: EncodedKeyframe, bit_offsets: tuple[int, ...]) -> tuple[int, ...]:
    if not bit_offsets:
        return ()
    try:
        return tuple(codec_for(keyframe).damaged_symbols(bit_offsets))
    except CodecError:
        return ()
