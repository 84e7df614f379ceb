"""Sender: video understanding (eq. 1-4), privacy and rate control."""

from mirage_stream.sender.analysis import SceneAnalyser, SegmentAnalysis
from mirage_stream.sender.captioner import (
    Captioner,
    CaptionSettings,
    Granularity,
    MeasuredFactsCaptioner,
    scrub_identity,
)
from mirage_stream.sender.keyframes import KeyframeChoice, KeyframeSelector, ScoredKeyframeSelector
from mirage_stream.sender.privacy import FaceHider, FacePolicy
from mirage_stream.sender.rate import LinkModel, RateAdapter, SegmentPlan
from mirage_stream.sender.sender import SenderSettings, SenderStage

__all__ = [
    "CaptionSettings",
    "Captioner",
    "FaceHider",
    "FacePolicy",
    "Granularity",
    "KeyframeChoice",
    "KeyframeSelector",
    "LinkModel",
    "MeasuredFactsCaptioner",
    "RateAdapter",
    "SceneAnalyser",
    "ScoredKeyframeSelector",
    "SegmentAnalysis",
    "SegmentPlan",
    "SenderSettings",
    "SenderStage",
    "scrub_identity",
]
