"""Receiver: decoding, prompt personalisation and generation (eq. 16-19)."""

from mirage_stream.receiver.generators import (
    GenerationRequest,
    Generator,
    GeneratorConfig,
    KeyframeMotionGenerator,
)
from mirage_stream.receiver.profile import (
    GenerationPrompt,
    ReceiverProfile,
    build_prompt,
    load_profile,
)
from mirage_stream.receiver.receiver import (
    DecodedSegment,
    DecodeStage,
    GenerateStage,
)

__all__ = [
    "DecodeStage",
    "DecodedSegment",
    "GenerateStage",
    "GenerationPrompt",
    "GenerationRequest",
    "Generator",
    "GeneratorConfig",
    "KeyframeMotionGenerator",
    "ReceiverProfile",
    "build_prompt",
    "load_profile",
]
