"""Sender: video understanding (eq. 1-4), privacy and rate control."""

from mirage_stream.sender.airtime_adapter import AirtimeRateAdapter, LinkModel
from mirage_stream.sender.analysis import SceneAnalyser, SegmentAnalysis
from mirage_stream.sender.captioner import Captioner, CaptionSettings, MeasuredFactsCaptioner
from mirage_stream.sender.keyframes import KeyframeChoice, KeyframeSelector, ScoredKeyframeSelector
from mirage_stream.sender.privacy import FaceHider, FacePolicy
from mirage_stream.sender.sender import SenderSettings, SenderStage
from mirage_stream.types import Granularity, SegmentPlan

__all__ = [
    "AirtimeRateAdapter",
    "CaptionSettings",
    "Captioner",
    "FaceHider",
    "FacePolicy",
    "Granularity",
    "KeyframeChoice",
    "KeyframeSelector",
    "LinkModel",
    "MeasuredFactsCaptioner",
    "SceneAnalyser",
    "ScoredKeyframeSelector",
    "SegmentAnalysis",
    "SegmentPlan",
    "SenderSettings",
    "SenderStage",
]
