"""Builds a sender from its config."""

from __future__ import annotations

from mirage_stream.codecs import CodecError, make_codec
from mirage_stream.codecs.distortion_model import load_quality
from mirage_stream.errors import InputError
from mirage_stream.feedback import FeedbackInbox
from mirage_stream.sender.airtime_adapter import AirtimeRateAdapter, LinkModel
from mirage_stream.sender.analysis import SceneAnalyser
from mirage_stream.sender.caption_backends import build_captioner
from mirage_stream.sender.close_faces import CLOSE_FACE_DETECTORS
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sender.hands import HAND_DETECTORS
from mirage_stream.sender.keyframes import ScoredKeyframeSelector
from mirage_stream.sender.load_shed import LoadShedder
from mirage_stream.sender.motion_track import LandmarkTracker, NoMotionTracker
from mirage_stream.sender.objects import OBJECT_DETECTORS
from mirage_stream.sender.person_look import FACE_READERS
from mirage_stream.sender.portrait import PortraitSender
from mirage_stream.sender.pose import POSE_DETECTORS
from mirage_stream.sender.privacy import FaceHider, FacePolicy
from mirage_stream.sender.protection import KeyframeProtection, ProtectionPolicy
from mirage_stream.sender.sender import SenderSettings, SenderStage
from mirage_stream.sender.setting import SETTING_CLASSIFIERS
from mirage_stream.sender.snr_tracker import SnrTracker
from mirage_stream.types import Granularity


def build_sender(
    config: SenderConfig,
    feedback: FeedbackInbox | None = None,
    link: LinkModel | None = None,
    initial_snr_db: float = -10.0,
    live: bool = False,
) -> SenderStage:
    """The sender stage; every model it needs is loaded here, so a bad path fails at start.
    ``live``: it sheds work when behind real time (when the config lets it)."""
    try:
        make_codec(config.codec)
    except CodecError as error:
        raise InputError(f"--codec: {error}") from None
    link = link or LinkModel()
    protection_mode = KeyframeProtection(config.keyframe_protection)
    rate = protection = None
    if config.latency_budget_ms is not None:
        rate = AirtimeRateAdapter(
            load_quality(),
            budget_s=config.latency_budget_ms / 1000.0,
            link=link,
            initial_snr_db=initial_snr_db,
            max_keyframes=max(1, config.max_keyframes),
        )
    elif protection_mode is KeyframeProtection.AUTO:
        protection = ProtectionPolicy(load_quality(), link, SnrTracker(initial_snr_db))
    relevance = None
    if config.clip_model:
        from mirage_stream.sender.relevance import ClipRelevance

        relevance = ClipRelevance.from_pretrained(
            config.clip_model, allow_download=config.allow_download
        )
    return SenderStage(
        captioner=build_captioner(config.captioner, config.captioner_options),
        selector=ScoredKeyframeSelector(relevance=relevance),
        analyser=SceneAnalyser(
            objects=OBJECT_DETECTORS.factory(config.object_detector)(),
            hands=HAND_DETECTORS.factory(config.hand_detector)(),
            poses=POSE_DETECTORS.factory(config.pose_detector)(),
            close_faces=CLOSE_FACE_DETECTORS.factory(config.close_face_detector)(),
            setting=SETTING_CLASSIFIERS.factory(config.setting_classifier)(),
            face_reader=FACE_READERS.factory(config.face_reader)(),
        ),
        settings=SenderSettings(
            codec=config.codec,
            max_keyframes=config.max_keyframes,
            granularity=Granularity(config.granularity),
            privacy=config.privacy,
            keyframe_fec_parity=config.keyframe_fec_parity,
            keyframe_protection=protection_mode,
            face_detail=config.face_detail,
            keyframe_timing=config.keyframe_timing,
            motion_track=config.motion_track,
            portrait=config.portrait,
        ),
        portrait=PortraitSender(config.portrait_settings) if config.portrait else None,
        tracker=LandmarkTracker() if config.motion_track else NoMotionTracker(),
        hider=FaceHider(FacePolicy(config.face_policy)),
        rate=rate,
        protection=protection,
        feedback=feedback,
        shedder=LoadShedder() if live and config.shed_load else None,
    )
