"""The sender's settings, checked in full at start-up (not mid-call), with their options."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field

from mirage_stream.codecs import CODECS, check_codec_setting
from mirage_stream.errors import InputError
from mirage_stream.options import add_download_argument, positive_float
from mirage_stream.registry import BackendOptions, NoOptions
from mirage_stream.sender.caption_backends import CAPTIONERS
from mirage_stream.sender.close_faces import CLOSE_FACE_DETECTORS, DEFAULT_CLOSE_FACE_DETECTOR
from mirage_stream.sender.hands import DEFAULT_HAND_DETECTOR, HAND_DETECTORS
from mirage_stream.sender.objects import DEFAULT_OBJECT_DETECTOR, OBJECT_DETECTORS
from mirage_stream.sender.person_look import DEFAULT_FACE_READER, FACE_READERS
from mirage_stream.sender.portrait import PortraitSettings
from mirage_stream.sender.pose import DEFAULT_POSE_DETECTOR, POSE_DETECTORS
from mirage_stream.sender.privacy import FacePolicy
from mirage_stream.sender.protection import KeyframeProtection
from mirage_stream.sender.setting import DEFAULT_SETTING_CLASSIFIER, SETTING_CLASSIFIERS
from mirage_stream.types import Granularity

DEFAULT_CAPTIONER = "measured-facts"


def _choice(value: str, allowed: list[str], flag: str) -> str:
    if value not in allowed:
        raise InputError(f"{flag} must be one of {', '.join(allowed)}, got {value!r}")
    return value


@dataclass(frozen=True)
class SenderConfig:
    """What the sender says and sends. ``latency_budget_ms`` turns the rate adapter on."""

    captioner: str = DEFAULT_CAPTIONER  # a name in CAPTIONERS
    # The chosen captioner's own options, of the class its entry names (VlmOptions for "vlm").
    captioner_options: BackendOptions = field(default_factory=NoOptions)
    clip_model: str | None = None  # CLIP folder or hub id: caption relevance in eq. 4
    allow_download: bool = False  # for clip_model
    granularity: str = "normal"
    privacy: bool = False
    face_policy: str = "keep"
    codec: str = "vq"  # name or name:variant
    # Two: one keyframe held over 2 s cannot follow a talking head; with the 240 B codec two
    # still fit the 1 KB payload and 20 ms on air at -10 dB.
    max_keyframes: int = 2
    keyframe_fec_parity: int = 0
    keyframe_protection: str = "auto"  # auto | best-effort | reliable
    face_detail: bool = False  # the largest face coded again at the codec's full size
    # When the change between two keyframes happens (a few bytes per pair; beyond the paper).
    keyframe_timing: bool = True
    # Face landmarks and hands at a few frames, for the receiver's warp (up to ~75 B; beyond the
    # paper).
    motion_track: bool = True
    # The person in a call: the caller's reference picture and face track (beyond the paper;
    # never sent for hidden faces). With a face track the motion track above is left out.
    portrait: bool = True
    portrait_settings: PortraitSettings = field(default_factory=PortraitSettings)
    # Live only: less work per segment, or the segment dropped, when behind real time.
    shed_load: bool = True
    latency_budget_ms: float | None = None
    # The scene analysis' detectors (names in OBJECT_DETECTORS / HAND_DETECTORS /
    # POSE_DETECTORS / CLOSE_FACE_DETECTORS / SETTING_CLASSIFIERS / FACE_READERS): "none"
    # trades what the caption can say for sender CPU on a slow machine.
    object_detector: str = DEFAULT_OBJECT_DETECTOR
    hand_detector: str = DEFAULT_HAND_DETECTOR
    pose_detector: str = DEFAULT_POSE_DETECTOR
    close_face_detector: str = DEFAULT_CLOSE_FACE_DETECTOR
    setting_classifier: str = DEFAULT_SETTING_CLASSIFIER
    face_reader: str = DEFAULT_FACE_READER

    def __post_init__(self) -> None:
        CAPTIONERS.check(self.captioner, self.captioner_options)
        OBJECT_DETECTORS.check(self.object_detector)
        HAND_DETECTORS.check(self.hand_detector)
        POSE_DETECTORS.check(self.pose_detector)
        CLOSE_FACE_DETECTORS.check(self.close_face_detector)
        SETTING_CLASSIFIERS.check(self.setting_classifier)
        FACE_READERS.check(self.face_reader)
        _choice(self.granularity, [g.value for g in Granularity], "--granularity")
        _choice(self.face_policy, [p.value for p in FacePolicy], "--faces")
        check_codec_setting(self.codec)
        if not 0 <= self.max_keyframes <= 4:
            raise InputError(f"--max-keyframes must be in [0, 4], got {self.max_keyframes}")
        if not 0 <= self.keyframe_fec_parity <= 64 or self.keyframe_fec_parity % 2:
            raise InputError(
                f"--keyframe-fec must be even and in [0, 64], got {self.keyframe_fec_parity}"
            )
        protection = _choice(
            self.keyframe_protection,
            [mode.value for mode in KeyframeProtection],
            "--keyframe-protection",
        )
        if self.keyframe_fec_parity and protection != KeyframeProtection.BEST_EFFORT.value:
            raise InputError(
                "--keyframe-fec sets the FEC of best-effort keyframes: give it with "
                "--keyframe-protection best-effort (auto chooses the FEC itself)"
            )
        budget = self.latency_budget_ms
        if budget is not None and not (math.isfinite(budget) and budget > 0):
            raise InputError(f"--latency-budget-ms must be positive, got {budget}")

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        defaults = SenderConfig()  # each default lives in its field, once
        group = parser.add_argument_group("sender")
        CAPTIONERS.add_arguments(parser, group, defaults.captioner, "how captions are written")
        group.add_argument(
            "--clip-model",
            default=None,
            metavar="PATH_OR_ID",
            help="CLIP folder or hub id: adds caption relevance to the keyframe score (eq. 4)",
        )
        add_download_argument(parser)
        group.add_argument(
            "--granularity",
            metavar="{short,normal,detailed}",
            default=defaults.granularity,
            help="caption detail: short, normal or detailed; default %(default)s",
        )
        group.add_argument(
            "--privacy",
            action="store_true",
            help="captions without identity words (gender, age, ethnicity, skin, hair)",
        )
        group.add_argument(
            "--faces",
            metavar="{keep,blur,mask}",
            default=defaults.face_policy,
            help="faces in keyframes before encoding: keep, blur or mask; default %(default)s",
        )
        group.add_argument(
            "--codec",
            default=defaults.codec,
            metavar="NAME[:VARIANT]",
            help=f"keyframe codec, name or name:variant (vq:K256; `mirage-stream info` lists "
            f"the variants): {CODECS.help()}; default %(default)s",
        )
        group.add_argument(
            "--max-keyframes",
            type=int,
            default=defaults.max_keyframes,
            help="keyframes per segment, 0-4 (fewer when the scene has not changed or one "
            "shows it all); default %(default)s",
        )
        group.add_argument(
            "--face-detail",
            action=argparse.BooleanOptionalAction,
            default=defaults.face_detail,
            help="when the first keyframe shows a face, code the face's square again at the "
            "codec's full size (one more keyframe's bytes; with --max-keyframes 1 it keeps a "
            "payload of two keyframes' size); the receiver lays it over the frame; "
            "default %(default)s",
        )
        group.add_argument(
            "--keyframe-timing",
            action=argparse.BooleanOptionalAction,
            default=defaults.keyframe_timing,
            help="with two or more keyframes, send when the picture changes from one to the "
            "next (7 shares of 4 bits per pair, beyond the paper), so the receiver's morph or "
            "cut lands when the source changed; --no-keyframe-timing sends the paper's "
            "payload; default %(default)s",
        )
        group.add_argument(
            "--shed-load",
            action=argparse.BooleanOptionalAction,
            default=defaults.shed_load,
            help="live: when the sender runs behind real time, do less per segment (detectors "
            "on 3 frames, no motion track, no face retries) and, a whole segment behind, drop "
            "the segment (counted); a file run never sheds; default %(default)s",
        )
        group.add_argument(
            "--motion-track",
            action=argparse.BooleanOptionalAction,
            default=defaults.motion_track,
            help="send where six face landmarks and up to two hands are at the frames the "
            "detectors sample (up to about 75 protected bytes a segment, beyond the paper; left "
            "out when the latency budget has no room, or faces are hidden), so the receiver's "
            "picture moves as the person did; --no-motion-track sends the paper's payload; "
            "default %(default)s",
        )
        group.add_argument(
            "--portrait",
            action=argparse.BooleanOptionalAction,
            default=defaults.portrait,
            help="the person in a call: send one sharp reference picture of the caller (an "
            "AV1 still, at the start and when the scene changes) and their head pose and "
            "expression at --track-rate, so the receiver rebuilds every frame from the "
            "picture; never with --privacy or hidden faces; --no-portrait sends the paper's "
            "payload; default %(default)s",
        )
        PortraitSettings.add_arguments(group)
        detectors = parser.add_argument_group("the sender's detectors ('none' saves CPU)")
        group.add_argument(
            "--keyframe-protection",
            metavar="{auto,best-effort,reliable}",
            default=defaults.keyframe_protection,
            help="how keyframe symbols travel: auto (per segment, the least time on air that "
            "keeps the decoded keyframe within 1 dB of clean at the SNR the receiver reports: "
            "best effort, light FEC or the caption's reliable path), best-effort (the paper's "
            "unprotected keyframe, for its tables; see --keyframe-fec) or reliable; "
            "default %(default)s",
        )
        group.add_argument(
            "--keyframe-fec",
            type=int,
            default=defaults.keyframe_fec_parity,
            metavar="PARITY",
            help="with --keyframe-protection best-effort: light FEC on keyframe symbols, "
            "Reed-Solomon parity bytes per 255-byte block (even, 0-64; helps at BER around "
            "1e-3, useless at -10 dB); default %(default)s",
        )
        group.add_argument(
            "--latency-budget-ms",
            type=positive_float,
            default=defaults.latency_budget_ms,
            help="turn the rate adapter on: per segment it picks codec, keyframe count, caption "
            "detail and FEC to fit this time on air at the SNR the receiver reports",
        )
        for registry, default, lead in (
            (OBJECT_DETECTORS, defaults.object_detector, "people, vehicles, animals, furniture"),
            (HAND_DETECTORS, defaults.hand_detector, "hands and gestures"),
            (POSE_DETECTORS, defaults.pose_detector, "bodies (people the objects miss, sitting)"),
            (CLOSE_FACE_DETECTORS, defaults.close_face_detector, "faces the cascade misses"),
            (SETTING_CLASSIFIERS, defaults.setting_classifier, "indoors or outdoors"),
            (FACE_READERS, defaults.face_reader, "what the caller's face does"),
        ):
            registry.add_arguments(parser, detectors, default, f"for the caption, {lead}")

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> SenderConfig:
        return cls(
            captioner=args.captioner,
            captioner_options=CAPTIONERS.options_from_args(args.captioner, args),
            allow_download=args.allow_download,
            clip_model=args.clip_model,
            granularity=args.granularity,
            privacy=args.privacy,
            face_policy=args.faces,
            codec=args.codec,
            max_keyframes=args.max_keyframes,
            keyframe_fec_parity=args.keyframe_fec,
            keyframe_protection=args.keyframe_protection,
            face_detail=args.face_detail,
            keyframe_timing=args.keyframe_timing,
            motion_track=args.motion_track,
            portrait=args.portrait,
            portrait_settings=PortraitSettings.from_args(args),
            shed_load=args.shed_load,
            latency_budget_ms=args.latency_budget_ms,
            object_detector=args.object_detector,
            hand_detector=args.hand_detector,
            pose_detector=args.pose_detector,
            close_face_detector=args.close_face_detector,
            setting_classifier=args.setting_classifier,
            face_reader=args.face_reader,
        )
