"""Receiver: decode, personalise, generate (eq. 13, 16-19)."""

from mirage_stream.receiver.generators import Generator, GeneratorConfig, KeyframeMotionGenerator
from mirage_stream.receiver.receiver import ReceiverStage

__all__ = ["Generator", "GeneratorConfig", "KeyframeMotionGenerator", "ReceiverStage"]
