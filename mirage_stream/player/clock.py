"""The playback clock of a live call, with a jitter buffer.

Media time m (seconds from the first captured frame) is captured at wall time start + m. A
segment covering [t0, t0 + d] is complete at t0 + d; it is shown from t0 + d + playout_delay,
the jitter buffer that absorbs uneven sending, link and generation times. A segment that is
ready early waits for its slot; one that is late is shown at once and counted as late.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from mirage_stream.types import PlaybackSlot


@dataclass
class PlaybackClock:
    playout_delay_s: float = 0.5
    speed: float = 1.0  # media seconds per second: above 1 only for load tests
    _start: float = field(default_factory=time.monotonic, init=False)

    def now(self) -> float:
        """Media seconds since the clock started."""
        return (time.monotonic() - self._start) * self.speed

    async def wait_until(self, media_s: float) -> None:
        delay = (media_s - self.now()) / self.speed
        if delay > 0:
            await asyncio.sleep(delay)

    async def play(self, t0: float, duration: float) -> PlaybackSlot:
        """Wait for the segment's slot; say when it was shown and how late it was."""
        slot = t0 + duration + self.playout_delay_s
        ready = self.now()
        await self.wait_until(slot)
        shown = self.now()
        return PlaybackSlot(
            captured_s=round(t0 + duration, 4),
            ready_s=round(ready, 4),
            shown_s=round(shown, 4),
            late_s=round(max(0.0, ready - slot), 4),
            glass_to_glass_s=round(shown - (t0 + duration), 4),
        )
