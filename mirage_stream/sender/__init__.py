"""Sender: video understanding (eq. 1-4)."""

from mirage_stream.sender.captioner import Captioner, MeasuredFactsCaptioner
from mirage_stream.sender.keyframes import KeyframeSelector, SharpestFrameSelector
from mirage_stream.sender.sender import SenderStage

__all__ = [
    "Captioner",
    "KeyframeSelector",
    "MeasuredFactsCaptioner",
    "SenderStage",
    "SharpestFrameSelector",
]
