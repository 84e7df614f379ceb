"""Generators (eq. 17-19): theta_g as a validated config, the request every backend gets, and
the offline default generator.

The offline generator is real and fast, and makes no claim to be a diffusion model: it animates
the decoded keyframes as the scene facts say the source moved, styled as the profile asks.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.errors import FieldValueError
from mirage_stream.motion_track import PointKind
from mirage_stream.receiver.landmark_warp import follow_track
from mirage_stream.receiver.morph import (
    blend_without_ghosts,
    explained_flows,
    morph,
    slide,
)
from mirage_stream.receiver.profile import GenerationPrompt, ReceiverProfile
from mirage_stream.receiver.style import treat_keyframe
from mirage_stream.types import FaceFact, FrameArray, SceneFacts

MAX_FRAMES = 1024
TAIL_FRAMES = 9  # the previous segment's last frames kept for backends that continue a video
MAX_SIDE = 2048


@dataclass(frozen=True)
class GeneratorConfig:
    """theta_g (eq. 17): frames F, rate rho, size (H_g, W_g), keyframe strength lambda, steps,
    guidance, seed. Each backend maps what it can use (see its docstring)."""

    num_frames: int
    fps: float
    width: int
    height: int
    keyframe_strength: float = 1.0  # lambda in [0, 1]: how closely to follow the keyframe
    steps: int = 25
    guidance: float = 3.0
    seed: int = 0
    # A live call's rate adapter lowers these to hold real time: the share of (width, height)
    # the model works at (frames are resized to the full size) and of its denoising steps.
    model_scale: float = 1.0
    steps_scale: float = 1.0

    def __post_init__(self) -> None:
        if not 1 <= self.num_frames <= MAX_FRAMES:
            raise FieldValueError(
                "num_frames", f"must be in [1, {MAX_FRAMES}], got {self.num_frames}"
            )
        if not (math.isfinite(self.fps) and 0 < self.fps <= 240):
            raise FieldValueError("fps", f"must be in (0, 240], got {self.fps}")
        if not (2 <= self.width <= MAX_SIDE and 2 <= self.height <= MAX_SIDE):
            raise FieldValueError(
                "size", f"must be within 2..{MAX_SIDE} per side, got {self.width}x{self.height}"
            )
        if not (math.isfinite(self.keyframe_strength) and 0 <= self.keyframe_strength <= 1):
            raise FieldValueError(
                "keyframe_strength", f"must be in [0, 1], got {self.keyframe_strength}"
            )
        if not 1 <= self.steps <= 500:
            raise FieldValueError("steps", f"must be in [1, 500], got {self.steps}")
        if not (math.isfinite(self.guidance) and 0 <= self.guidance <= 50):
            raise FieldValueError("guidance", f"must be in [0, 50], got {self.guidance}")
        for name, scale in (("model_scale", self.model_scale), ("steps_scale", self.steps_scale)):
            if not (math.isfinite(scale) and 0.1 <= scale <= 1):
                raise FieldValueError(name, f"must be in [0.1, 1], got {scale}")


@dataclass(frozen=True)
class GenerationRequest:
    """Everything a generator gets for one segment (eq. 18: V ~ p(V | K, C; theta_g))."""

    keyframes: tuple[tuple[int, FrameArray], ...]  # (frame index in the segment, RGB image)
    facts: SceneFacts
    prompt: GenerationPrompt
    config: GeneratorConfig
    profile: ReceiverProfile = field(default_factory=ReceiverProfile)
    previous: FrameArray | None = None  # the last frame shown, for a seamless boundary
    # The previous segment's last frames, oldest first, for backends that continue a video.
    tail: tuple[FrameArray, ...] = ()


class Generator(Protocol):
    """A video generator backend. What the receiver may do with it is said by its
    capabilities, never by its name."""

    @property
    def name(self) -> str: ...

    @property
    def adapts_rate(self) -> bool:
        """Whether a live call's rate adapter may trade its steps and size for speed."""
        ...

    @property
    def draws_people(self) -> bool:
        """Whether the backend renders the people itself (a video model). When it does not
        (the offline animator), the frames the caller's face track covers show the reenacted
        reference instead, and a segment the track covers whole is not generated at all."""
        ...

    def generate(self, request: GenerationRequest) -> npt.NDArray[np.uint8]: ...

    def warm_up(self, config: GeneratorConfig) -> float | None:
        """One generation before the first call where the backend needs one (kernels chosen,
        memory reserved); its seconds, or None when the backend needs no warm-up."""
        ...


def _resized(image: FrameArray, width: int, height: int) -> FrameArray:
    if image.shape[1] == width and image.shape[0] == height:
        return image
    return np.asarray(cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC), np.uint8)


def _face_mask(faces: tuple[FaceFact, ...], width: int, height: int) -> npt.NDArray[np.float32]:
    """1 over each face (grown by a third for hair and chin), fading to 0 around it."""
    mask = np.zeros((height, width), np.float32)
    for face in faces:
        grow_x, grow_y = face.width / 3, face.height / 3
        x0, x1 = int((face.x - grow_x) * width), int((face.x + face.width + grow_x) * width)
        y0, y1 = int((face.y - grow_y) * height), int((face.y + face.height + grow_y) * height)
        mask[max(0, y0) : max(0, y1), max(0, x0) : max(0, x1)] = 1.0
    if not faces:
        return mask
    soft = cv2.GaussianBlur(mask, (0, 0), max(2.0, 0.02 * width))
    return np.asarray(np.maximum(mask, soft), np.float32)


@dataclass(frozen=True)
class KeyframeMotionGenerator:
    """Offline default: animates the keyframes by the measured camera motion.

    Each keyframe stands at its own time in the segment; a frame t frames away from its nearest
    keyframe is that keyframe translated by t * (dx, dy) and scaled by (1 + zoom)^t about the
    centre (reflected at the borders, total drift capped at ``max_drift``). Between two
    keyframes the frames are a flow-guided morph that never blends two pictures that disagree
    (``morph``: it cuts there instead); the first ``transition_frames`` slide in from the last
    frame shown where the flow explains the change, so segment boundaries do not jump, and
    cut where it does not. With a still camera and no cut, every frame is therefore either a
    keyframe held (the hold baseline) or a slide between two that the flow accounts for.
    Style, lighting and anonymised faces are applied to each keyframe once
    (``treat_keyframe``). ``keyframe_strength`` below 1
    softens the keyframe towards its coarse structure (the offline analogue of weaker image
    conditioning); steps and guidance do not apply. Deterministic: no randomness at all.
    """

    transition_frames: int = 6
    max_drift: float = 0.25
    # Slide the area where the sender measured motion (``_animate_subject``). Off: it only
    # guesses how the subject moves, and on the real set's tune half it took 5 of 24 clips
    # below the hold-the-keyframe baseline (bench picture --real-set tune); without it, none.
    slide_subject: bool = False
    # Warp the nearest keyframe to follow the motion track's landmarks where one came.
    warp_to_track: bool = True
    name: str = "keyframe-motion"
    adapts_rate: bool = False  # steps and guidance do not apply; it is fast at any size
    draws_people: bool = False  # it moves the keyframes; the reenacted reference does better

    def _prepared(self, image: FrameArray, request: GenerationRequest) -> FrameArray:
        config, profile = request.config, request.profile
        base = _resized(image, config.width, config.height)
        if config.keyframe_strength < 1.0:
            sigma = 1.0 + 8.0 * (1.0 - config.keyframe_strength)
            soft = cv2.GaussianBlur(base, (0, 0), sigma)
            base = np.asarray(
                cv2.addWeighted(
                    base, config.keyframe_strength, soft, 1 - config.keyframe_strength, 0
                ),
                np.uint8,
            )
        return treat_keyframe(
            base, profile.style, profile.lighting, profile.identity, request.facts.faces
        )

    def _moved(self, image: FrameArray, steps: int, request: GenerationRequest) -> FrameArray:
        config, motion = request.config, request.facts.motion
        if steps == 0 or not (motion.pans or motion.zooms):
            return image  # the sender saw a still camera (and its caption says so)
        limit_x, limit_y = self.max_drift * config.width, self.max_drift * config.height
        shift_x = float(np.clip(motion.dx * steps, -limit_x, limit_x))
        shift_y = float(np.clip(motion.dy * steps, -limit_y, limit_y))
        scale = float(
            np.clip((1.0 + motion.zoom) ** steps, 1.0 - self.max_drift, 1.0 + self.max_drift)
        )
        centre_x, centre_y = (config.width - 1) / 2, (config.height - 1) / 2
        warp = np.array(
            [
                [scale, 0.0, (1 - scale) * centre_x + shift_x],
                [0.0, scale, (1 - scale) * centre_y + shift_y],
            ],
            dtype=np.float64,
        )
        return np.asarray(
            cv2.warpAffine(
                image,
                warp,
                (config.width, config.height),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REFLECT,
            ),
            dtype=np.uint8,
        )

    def warm_up(self, config: GeneratorConfig) -> None:
        return None  # nothing to load or compile: its first segment is as fast as any

    def generate(self, request: GenerationRequest) -> npt.NDArray[np.uint8]:
        config = request.config
        if not request.keyframes:
            raise ValueError("the offline generator needs at least one keyframe")
        count = config.num_frames
        anchors = sorted(
            (min(max(index, 0), count - 1), self._prepared(image, request))
            for index, image in request.keyframes
        )
        cuts = {round(t * config.fps) for t in request.facts.cuts}
        frames = np.empty((count, config.height, config.width, 3), dtype=np.uint8)
        first_index, first_image = anchors[0]
        last_index, last_image = anchors[-1]
        for t in range(0, first_index + 1):
            frames[t] = self._moved(first_image, t - first_index, request)
        for (a_index, a_image), (b_index, b_image) in itertools.pairwise(anchors):
            cut = next((c for c in sorted(cuts) if a_index < c <= b_index), None)
            if cut is not None:
                # The caption says the shot changes here: cut, do not morph across shots.
                for t in range(a_index, cut):
                    frames[t] = self._moved(a_image, t - a_index, request)
                for t in range(cut, b_index + 1):
                    frames[t] = self._moved(b_image, t - b_index, request)
                continue
            frames[a_index] = a_image
            if b_index > a_index + 1:
                timing = request.facts.timing_between(a_index, b_index)
                shares = (
                    None if timing is None else [timing.at(t) for t in range(a_index + 1, b_index)]
                )
                frames[a_index + 1 : b_index] = morph(
                    a_image, b_image, b_index - a_index - 1, shares
                )
            frames[b_index] = b_image
        for t in range(last_index, count):
            frames[t] = self._moved(last_image, t - last_index, request)
        if self.slide_subject:
            self._animate_subject(frames, request, first_index, last_index)
        track = request.facts.motion_track if self.warp_to_track else None
        if track is not None:
            follow_track(frames, anchors, track)
        if track is None or not any(p.kind is PointKind.FACE for p in track.points):
            self._animate_mouth(frames, request)  # no landmarks: a mouth that only guesses
        self._continue_from(request.previous, frames)
        return frames

    def _continue_from(self, previous: FrameArray | None, frames: npt.NDArray[np.uint8]) -> None:
        """Slide the first frames in from the last frame shown, where the flow between them
        explains the change (the same scene, moved on); else the new segment starts at once,
        a cut, rather than holding on to a picture the new keyframe contradicts."""
        blend = min(self.transition_frames, frames.shape[0])
        if previous is None or previous.shape != frames.shape[1:] or blend < 2:
            return
        flows = explained_flows(previous, frames[blend - 1])
        if flows is None:
            return
        shares = [step / (blend + 1) for step in range(1, blend + 1)]
        for t, bridged in enumerate(slide(previous, frames[blend - 1], shares, *flows)[:-1]):
            frames[t] = blend_without_ghosts(bridged, frames[t], (t + 1) / blend)

    def _animate_subject(
        self, frames: npt.NDArray[np.uint8], request: GenerationRequest, first: int, last: int
    ) -> None:
        """Move the part of the picture where the sender saw motion, as fast and in the
        direction it measured: a soft disc around the moving area's centre slides over the
        still background (capped at 60% of its radius). Only before the first keyframe
        (``first``) and after the last (``last``), counted from the nearer one: between
        keyframes the morph already follows what moved, and a keyframe is shown as decoded.
        Faces stay whole: a warp that only guesses the motion would bend them out of shape,
        and a face is what a viewer checks."""
        facts, config = request.facts, request.config
        speed = math.hypot(facts.subject_dx, facts.subject_dy)
        if facts.subject_share < 0.03 or speed < 0.3:
            return
        area = facts.subject_share * config.width * config.height
        radius = float(
            np.clip(math.sqrt(area / math.pi), 12.0, 0.4 * max(config.width, config.height))
        )
        ys, xs = np.mgrid[0 : config.height, 0 : config.width].astype(np.float32)
        centre_x, centre_y = facts.subject_x * config.width, facts.subject_y * config.height
        weight = np.exp(-((xs - centre_x) ** 2 + (ys - centre_y) ** 2) / (2 * (radius / 1.5) ** 2))
        weight *= 1.0 - _face_mask(facts.faces, config.width, config.height)
        cap = 0.6 * radius
        for t in range(frames.shape[0]):
            away = t - first if t < first else t - last if t > last else 0
            shift_x = float(np.clip(facts.subject_dx * away, -cap, cap))
            shift_y = float(np.clip(facts.subject_dy * away, -cap, cap))
            if shift_x == 0 and shift_y == 0:
                continue
            frames[t] = cv2.remap(
                frames[t],
                xs - weight * shift_x,
                ys - weight * shift_y,
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REFLECT,
            )

    def _animate_mouth(self, frames: npt.NDArray[np.uint8], request: GenerationRequest) -> None:
        """A talking mouth: the lower face opens and closes a little (period 8 frames)."""
        facts, config = request.facts, request.config
        if not (facts.talking and facts.faces):
            return
        face = facts.faces[0]
        width, height = face.width * config.width, face.height * config.height
        centre_x = (face.x + face.width / 2) * config.width
        centre_y = (face.y + 0.8 * face.height) * config.height
        ys, xs = np.mgrid[0 : config.height, 0 : config.width].astype(np.float32)
        bump = np.exp(
            -((xs - centre_x) ** 2) / (2 * (width / 5) ** 2)
            - ((ys - centre_y) ** 2) / (2 * (height / 8) ** 2)
        )
        amplitude = max(1.0, 0.03 * height)
        for t in range(frames.shape[0]):
            opening = amplitude * math.sin(2 * math.pi * t / 8)
            frames[t] = cv2.remap(
                frames[t],
                xs,
                ys - opening * bump * np.sign(ys - centre_y),
                cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REFLECT,
            )
