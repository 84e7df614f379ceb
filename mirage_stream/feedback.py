"""The receiver-to-sender feedback path inside one process (one inbox per call, no globals).

Stages post from worker threads and the sender drains before planning each segment, so the
inbox is a thread-safe queue. Over WebRTC the same messages travel on the reliable channel.
"""

from __future__ import annotations

import queue

from mirage_stream.types import ChannelFeedback


class FeedbackInbox:
    def __init__(self) -> None:
        self._messages: queue.SimpleQueue[ChannelFeedback] = queue.SimpleQueue()

    def post(self, feedback: ChannelFeedback) -> None:
        self._messages.put(feedback)

    def drain(self) -> list[ChannelFeedback]:
        """Everything posted since the last drain, oldest first."""
        drained = []
        while True:
            try:
                drained.append(self._messages.get_nowait())
            except queue.Empty:
                return drained
