"""The objects that travel between stages: one dataclass per arrow of the pipeline. Frames are
``uint8`` arrays ``(H, W, 3)`` in RGB order, a stack ``(F, H, W, 3)``; times are seconds."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from mirage_stream.looks import PersonLook
from mirage_stream.motion_track import MotionTrack
from mirage_stream.portrait.parts import EncodedFaceTrack, ReferenceChunk
from mirage_stream.timing import KeyframeTiming

FrameArray = npt.NDArray[np.uint8]


@dataclass(frozen=True)
class DetailFrame:
    """One frame of a segment at the source's resolution: ``index`` into the segment's frames."""

    index: int
    image: FrameArray  # (H', W', 3) RGB, the working frame's view with H'/H = W'/W >= 1

    def scale(self, working_width: int) -> float:
        """Source pixels per working pixel."""
        return float(self.image.shape[1]) / working_width


@dataclass(frozen=True)
class VideoSegment:
    """Consecutive source frames: the unit the sender describes and the receiver generates."""

    index: int
    frames: FrameArray  # (F, H, W, 3) RGB
    fps: float
    t0: float  # presentation time of the first frame
    # A few frames at the source's resolution (same crop as ``frames``, larger pixels), for
    # detectors that need more pixels than the working copy has (people far away).
    detail: tuple[DetailFrame, ...] = ()

    def __post_init__(self) -> None:
        if self.frames.ndim != 4 or self.frames.shape[-1] != 3 or self.frames.dtype != np.uint8:
            raise ValueError(
                f"VideoSegment.frames must be uint8 (F, H, W, 3), got {self.frames.dtype} "
                f"{self.frames.shape}"
            )
        if self.fps <= 0:
            raise ValueError(f"VideoSegment.fps must be positive, got {self.fps}")

    def without_pixels(self) -> VideoSegment:
        """The same segment with its pixels let go: shape, rate and times stay (what reports
        read), the frames read as zeros and take no memory."""
        empty = np.broadcast_to(np.zeros((), np.uint8), self.frames.shape)
        return VideoSegment(self.index, empty, self.fps, self.t0)

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def height(self) -> int:
        return int(self.frames.shape[1])

    @property
    def width(self) -> int:
        return int(self.frames.shape[2])

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps

    @property
    def raw_bytes(self) -> int:
        """Size of the segment as raw 8-bit RGB (24 bits per pixel), the paper's 'Raw' scheme."""
        return int(self.frames.nbytes)


@dataclass(frozen=True)
class MotionHints:
    """Measured global motion of a segment, in pixels per frame at the working resolution.

    ``dx``/``dy`` are the median optical-flow displacement (content moving right / down is
    positive); ``zoom`` is the per-frame scale change (> 0: content grows, as in a zoom-in);
    ``activity`` is the mean flow magnitude after removing the global motion (local movement).
    These travel to the receiver inside ``SceneFacts``.
    """

    dx: float = 0.0
    dy: float = 0.0
    zoom: float = 0.0
    activity: float = 0.0

    # Below these the camera counts as still: the caption says so and the generator holds the
    # frame, since a drift this small is more likely measurement noise than a camera move.
    STILL_PX_PER_FRAME = 0.3
    STILL_ZOOM_PER_FRAME = 0.002

    @property
    def speed(self) -> float:
        return float(math.hypot(self.dx, self.dy))

    @property
    def pans(self) -> bool:
        return self.speed >= self.STILL_PX_PER_FRAME

    @property
    def zooms(self) -> bool:
        return abs(self.zoom) > self.STILL_ZOOM_PER_FRAME


@dataclass(frozen=True)
class FaceFact:
    """A face's box as fractions of the frame width and height (resolution-free)."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class FactConfidence:
    """How sure the sender is of each claim in ``SceneFacts``, in [0, 1].

    A caption states a fact only at ``STATED`` or above, and the receiver acts only on stated
    facts (``SceneFacts.trusted``). For ``people`` it is the confidence in the count found
    being at least that many (an absence is never claimed: see ``sender.people``).
    """

    people: float = 1.0
    talking: float = 1.0
    gesturing: float = 1.0
    walking: float = 1.0
    outdoors: float = 1.0  # the setting claim, indoors or outdoors
    animation: float = 1.0
    camera: float = 1.0

    STATED = 0.6


@dataclass(frozen=True)
class SceneFacts:
    """What the sender measured in a segment: the structured side of a caption.

    They travel with the payload for the receiver's generator and feed the rate adapter.
    ``motion`` is the camera's global motion; ``subject_dx``/``subject_dy`` the mean motion of
    what moves against it (pixels per frame), over ``subject_share`` of the frame in
    ``moving_objects`` separate regions. ``cuts`` are scene-cut times in seconds from the
    segment's start.
    """

    motion: MotionHints = field(default_factory=MotionHints)
    camera_shake: float = 0.0  # spread of the per-pair camera translation, pixels per frame
    subject_dx: float = 0.0
    subject_dy: float = 0.0
    subject_share: float = 0.0
    moving_objects: int = 0
    subject_x: float = 0.5  # where it moves: centre of the moving area, fractions of the frame
    subject_y: float = 0.5
    people: int = 0
    faces: tuple[FaceFact, ...] = ()
    talking: bool = False
    gesturing: bool = False
    brightness: float = 0.0  # mean luma in [0, 1]
    outdoors: bool = False  # outdoor evidence (no evidence: nothing claimed)
    indoors: bool = False  # indoor evidence: furniture the detector confirmed
    animation: bool = False  # vivid, noise-free colours: rendered or drawn rather than filmed
    colours: tuple[str, ...] = ()
    cuts: tuple[float, ...] = ()
    # People walk "left", "right" or "both" ways across the view, "towards" or "away" from the
    # camera; "" none seen.
    walking: str = ""
    subject_colour: str = ""  # the strong colour of what moves, in most frame pairs (text only)
    people_at_least: bool = False  # ``people`` counts movers: a lower bound, not an exact count
    # Caption text only (not on the wire): every tracked person stays in place upright; the
    # strong colour the people wear; other kinds the detector confirmed, with their counts and
    # those counted as lower bounds; the person nearest the camera.
    standing: bool = False
    sitting: bool = False  # every counted person seated, from the legs of their poses
    hands: bool = False  # hands confirmed in two sampled frames
    people_colour: str = ""
    objects: tuple[tuple[str, int], ...] = ()
    objects_at_least: tuple[str, ...] = ()
    look: PersonLook = field(default_factory=PersonLook)
    confidence: FactConfidence = field(default_factory=FactConfidence)
    # For consecutive keyframe pairs: when the change between them happens (wire: hints).
    keyframe_timing: tuple[KeyframeTiming, ...] = ()
    # Where the people's face landmarks and hands are at a few frames (wire: hints).
    motion_track: MotionTrack | None = None

    def timing_between(self, start: int, end: int) -> KeyframeTiming | None:
        """The timing sent for the keyframes at frames ``start`` and ``end``, if any."""
        return next((t for t in self.keyframe_timing if (t.start, t.end) == (start, end)), None)

    def trusted(self) -> SceneFacts:
        """These facts with every claim below ``FactConfidence.STATED`` withdrawn: what the
        receiver may act on."""
        sure = self.confidence
        stated = FactConfidence.STATED
        return replace(
            self,
            people=self.people if sure.people >= stated else 0,
            faces=self.faces if sure.people >= stated else (),
            talking=self.talking and sure.talking >= stated,
            gesturing=self.gesturing and sure.gesturing >= stated,
            walking=self.walking if sure.walking >= stated else "",
            outdoors=self.outdoors and sure.outdoors >= stated,
            indoors=self.indoors and sure.outdoors >= stated,
            animation=self.animation and sure.animation >= stated,
            motion=self.motion if sure.camera >= stated else MotionHints(),
        )


@dataclass(frozen=True)
class Caption:
    """What the sender says about a segment: fluent text plus the measured facts behind it."""

    text: str
    facts: SceneFacts = field(default_factory=SceneFacts)


@dataclass(frozen=True)
class Keyframe:
    """A source frame chosen to show what things look like, with its position in the segment."""

    frame_index: int
    image: FrameArray  # (H, W, 3) RGB
    score: float = 0.0


@dataclass(frozen=True)
class Region:
    """A part of the frame as fractions of its width and height (resolution-free); on the wire
    in 1/1024ths (``REGION_UNITS``)."""

    x: float
    y: float
    width: float
    height: float

    def __post_init__(self) -> None:
        corner_inside = min(self.x, self.y) >= 0
        far_inside = max(self.x + self.width, self.y + self.height) <= 1 + 1e-9
        if not (corner_inside and far_inside and min(self.width, self.height) > 0):
            raise ValueError(f"region {self} lies outside the frame")

    def pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) in a frame of ``width`` x ``height`` pixels."""
        x0, y0 = round(self.x * width), round(self.y * height)
        x1 = min(width, max(x0 + 1, round((self.x + self.width) * width)))
        y1 = min(height, max(y0 + 1, round((self.y + self.height) * height)))
        return x0, y0, x1, y1


@dataclass(frozen=True)
class EncodedKeyframe:
    """A keyframe squeezed into codec symbols (eq. 10-13).

    ``codec`` names the codec family, ``variant`` the codebook or quantiser setting within it (for
    example ``K256`` or ``y5c4``), ``grid`` the (rows, cols) of the symbol grid, ``data`` the packed
    symbol bits. ``frame_index`` locates the keyframe in its segment. ``region`` None: the image
    is the whole frame; else it is a detail (a face, coded at the codec's full size) of that
    part of the frame, to be laid over the whole-frame keyframe of the same time.
    """

    codec: str
    variant: str
    grid: tuple[int, int]
    data: bytes
    frame_index: int = 0
    region: Region | None = None


@dataclass(frozen=True)
class SemanticPayload:
    """Everything that crosses the link for one segment: no pixels, only meaning (eq. 1)."""

    segment_index: int
    t0: float
    duration: float
    fps: float
    width: int
    height: int
    num_frames: int
    caption: str
    facts: SceneFacts
    keyframes: tuple[EncodedKeyframe, ...]
    keyframe_fec_parity: int = 0  # light RS parity per 255-byte block on the keyframe symbols
    # True: the keyframe symbols travel on the reliable path with the caption (CRC, RS,
    # repetition, ARQ) instead of best effort, when the channel would damage them too much.
    keyframes_protected: bool = False
    # The person in a call (beyond the paper, ``mirage_stream.portrait``): a piece of the
    # caller's reference picture, and how their face moves through the segment.
    reference: ReferenceChunk | None = None
    face_track: EncodedFaceTrack | None = None


@dataclass(frozen=True)
class ReceivedPayload:
    """A payload as decoded at the receiver, with damage flagged part by part (CRC32)."""

    payload: SemanticPayload
    caption_ok: bool
    hints_ok: bool
    keyframes_ok: tuple[bool, ...]
    reference_ok: bool = True  # False: a reference chunk came damaged (it is then left out)
    face_track_ok: bool = True  # False: the face track's bits came damaged


@dataclass(frozen=True)
class LinkReport:
    """What one segment's trip over the simulated channel cost and suffered."""

    snr_db: float
    ber: float
    bits_sent: int  # payload bits before protection
    bits_exposed: int  # payload bits sent best-effort (keyframe symbols), subject to flips
    bit_errors: int  # flips on the best-effort bits
    time_on_air_s: float
    delivered: bool = True  # False: the protected part was lost after every try
    channel_bits: int = 0  # bits on air, protection and retries included
    tries: int = 1  # tries of the protected part (ARQ)
    residual_block_error: float = 0.0  # predicted chance that every try fails
    packets_sent: int = 0
    packets_lost: int = 0
    damaged_symbols: tuple[tuple[int, ...], ...] = ()  # per keyframe, symbol indices hit

    @property
    def overhead_bits(self) -> int:
        """Bits on air beyond the payload itself: coding, repetition, retries, headers."""
        return self.channel_bits - self.bits_sent


@dataclass(frozen=True)
class GeneratedSegment:
    """Frames the receiver generated for one segment."""

    index: int
    frames: FrameArray  # (F, H, W, 3) RGB
    fps: float
    t0: float
    keyframe_damaged: bool = False
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChannelFeedback:
    """What the receiver tells the sender about one segment (closes the rate-control loop)."""

    segment_index: int
    snr_db: float  # the receiver's SNR estimate
    delivered: bool = True
    keyframe_damaged: bool = False


class Granularity(enum.Enum):
    """How much a caption says."""

    SHORT = "short"
    NORMAL = "normal"
    DETAILED = "detailed"


@dataclass(frozen=True)
class SegmentPlan:
    """What the sender sends for one segment, and why."""

    codec: str  # name:variant
    keyframes: int
    granularity: Granularity
    keyframe_fec_parity: int
    planned_snr_db: float
    predicted_time_on_air_s: float
    predicted_mse: float
    within_budget: bool
    keyframes_protected: bool = False  # keyframe symbols on the reliable path, not best effort
    motion_track: bool = True  # room for the motion track in the budget (when one is sent)


@dataclass(frozen=True)
class PlaybackSlot:
    """When a segment was shown on the playback clock (media seconds), and how late."""

    captured_s: float
    ready_s: float
    shown_s: float
    late_s: float
    glass_to_glass_s: float


@dataclass(frozen=True)
class FacesFound:
    """Of the generated frames sampled, in how many the face detector found a face."""

    found: int
    sampled: int
