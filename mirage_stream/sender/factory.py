"""Builds a sender from named options, checking them all at start-up (not mid-call)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from mirage_stream.codecs import CodecError, make_codec
from mirage_stream.codecs.quality import load_quality
from mirage_stream.errors import InputError
from mirage_stream.feedback import FeedbackInbox
from mirage_stream.sender.captioner import Captioner, Granularity, MeasuredFactsCaptioner
from mirage_stream.sender.keyframes import ScoredKeyframeSelector
from mirage_stream.sender.privacy import FaceHider, FacePolicy
from mirage_stream.sender.rate import LinkModel, RateAdapter
from mirage_stream.sender.sender import SenderSettings, SenderStage

CAPTIONERS = ("measured-facts", "vlm")


@dataclass(frozen=True)
class SenderOptions:
    """The sender's flags. ``latency_budget_ms`` turns the rate adapter on."""

    captioner: str = "measured-facts"
    vlm_model: str | None = None  # local folder or hub id, for captioner "vlm"
    allow_download: bool = False
    clip_model: str | None = None  # CLIP folder or hub id: caption relevance in eq. 4
    granularity: str = "normal"
    privacy: bool = False
    face_policy: str = "keep"
    codec: str = "vq"
    max_keyframes: int = 1
    keyframe_fec_parity: int = 0
    latency_budget_ms: float | None = None


def _choice(value: str, allowed: list[str], flag: str) -> str:
    if value not in allowed:
        raise InputError(f"{flag} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def build_captioner(options: SenderOptions) -> Captioner:
    _choice(options.captioner, list(CAPTIONERS), "--captioner")
    if options.captioner == "vlm":
        if not options.vlm_model:
            raise InputError("--captioner vlm needs --vlm-model PATH_OR_HUB_ID")
        from mirage_stream.sender.vlm import VlmCaptioner

        return VlmCaptioner.from_pretrained(
            options.vlm_model, allow_download=options.allow_download
        )
    return MeasuredFactsCaptioner()


def build_sender(
    options: SenderOptions,
    feedback: FeedbackInbox | None = None,
    link: LinkModel | None = None,
    initial_snr_db: float = -10.0,
) -> SenderStage:
    granularity = Granularity(
        _choice(options.granularity, [g.value for g in Granularity], "--granularity")
    )
    policy = FacePolicy(_choice(options.face_policy, [p.value for p in FacePolicy], "--faces"))
    if not 0 <= options.max_keyframes <= 4:
        raise InputError(f"--max-keyframes must be in [0, 4], got {options.max_keyframes}")
    if not 0 <= options.keyframe_fec_parity <= 64 or options.keyframe_fec_parity % 2:
        raise InputError(
            f"--keyframe-fec must be even and in [0, 64], got {options.keyframe_fec_parity}"
        )
    try:
        make_codec(options.codec)
    except CodecError as error:
        raise InputError(f"--codec: {error}") from None
    rate = None
    if options.latency_budget_ms is not None:
        budget = options.latency_budget_ms
        if not (math.isfinite(budget) and budget > 0):
            raise InputError(f"--latency-budget-ms must be positive, got {budget}")
        rate = RateAdapter(
            load_quality(),
            budget_s=budget / 1000.0,
            link=link or LinkModel(),
            initial_snr_db=initial_snr_db,
            max_keyframes=max(1, options.max_keyframes),
        )
    relevance = None
    if options.clip_model:
        from mirage_stream.sender.relevance import ClipRelevance

        relevance = ClipRelevance.from_pretrained(
            options.clip_model, allow_download=options.allow_download
        )
    return SenderStage(
        captioner=build_captioner(options),
        selector=ScoredKeyframeSelector(relevance=relevance),
        settings=SenderSettings(
            codec=options.codec,
            max_keyframes=options.max_keyframes,
            granularity=granularity,
            privacy=options.privacy,
            keyframe_fec_parity=options.keyframe_fec_parity,
        ),
        hider=FaceHider(policy),
        rate=rate,
        feedback=feedback,
    )
