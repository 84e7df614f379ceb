"""In-process link stage: encode the payload, pass its bits through channel_sim, deliver bytes.

Keyframe symbol bits travel best-effort and take bit flips at the channel's BER; header, caption,
hints and framing are treated as protected (delivered intact). The coding cost of that protection
is not yet charged to time on air.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from channel_sim import AwgnBitChannel
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.types import LinkReport, SemanticPayload
from mirage_stream.wire import encode_payload_image


@dataclass(frozen=True)
class Delivery:
    """Bytes as they arrive at the receiver, with what the link did to them."""

    data: bytes
    report: LinkReport


@dataclass
class SimulatedLinkStage:
    """Applies ``channel`` at the SNR that ``snr_db_for`` gives for each segment index."""

    channel: AwgnBitChannel
    snr_db_for: Callable[[int], float]
    seed: int = 0
    name: str = "link"
    _rng: np.random.Generator = field(init=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)

    def transmit(self, payload: SemanticPayload, trace: SegmentTrace) -> Delivery:
        image = encode_payload_image(payload)
        sent = self.channel.send(
            image.data, self.snr_db_for(payload.segment_index), self._rng, image.exposed_spans
        )
        report = LinkReport(
            snr_db=sent.snr_db,
            ber=sent.ber,
            bits_sent=sent.bits_sent,
            bits_exposed=sent.bits_exposed,
            bit_errors=sent.bit_errors,
            time_on_air_s=sent.time_on_air_s,
        )
        trace.facts["payload_bytes"] = {**image.part_bytes, "total": len(image.data)}
        trace.facts["link"] = report
        return Delivery(data=sent.received, report=report)

    async def process(self, payload: SemanticPayload, trace: SegmentTrace) -> Delivery:
        # Encoding and flipping a few hundred bytes takes microseconds: no thread needed.
        return self.transmit(payload, trace)
