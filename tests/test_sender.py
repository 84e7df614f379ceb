import cv2
import numpy as np
import pytest

from mirage_stream.anonymise import scrub_identity
from mirage_stream.codecs import make_codec
from mirage_stream.errors import InputError
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.sender import (
    CaptionSettings,
    FaceHider,
    FacePolicy,
    Granularity,
    MeasuredFactsCaptioner,
    SceneAnalyser,
    ScoredKeyframeSelector,
    SenderSettings,
    SenderStage,
)
from mirage_stream.sender.caption_backends import VlmOptions
from mirage_stream.sender.colours import dominant_colours
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sender.detectors import detect_faces
from mirage_stream.sender.factory import build_sender
from mirage_stream.sender.flow import camera_motion, measure_flow
from mirage_stream.sender.keyframes import ScoreWeights
from mirage_stream.types import MotionHints, SceneFacts, VideoSegment
from tests.conftest import panning_segment, textured_image


def _two_shots(frames_each=10, fps=10.0):
    """A greenish shot, then a reddish one: a hard cut after ``frames_each`` frames."""
    green = textured_image(seed=1) // 2 + np.array([0, 120, 0], np.uint8)
    red = textured_image(seed=2) // 2 + np.array([120, 0, 0], np.uint8)
    frames = np.concatenate([np.stack([green] * frames_each), np.stack([red] * frames_each)])
    return VideoSegment(index=0, frames=frames, fps=fps, t0=0.0)


def _caption(segment, settings=None):
    settings = settings or CaptionSettings()
    analysis = SceneAnalyser().analyse(segment)
    return MeasuredFactsCaptioner().caption(segment, analysis, settings)


@pytest.mark.parametrize(
    ("dx", "dy", "words"),
    [(3, 0, "pans steadily left"), (-3, 0, "pans steadily right"), (0, 2, "tilts steadily up")],
)
def test_global_motion_is_measured_and_told_as_camera_motion(dx, dy, words):
    segment = panning_segment(dx, dy)
    motion = camera_motion(measure_flow(segment.frames))
    assert motion.dx == pytest.approx(dx, abs=0.35)
    assert motion.dy == pytest.approx(dy, abs=0.35)
    # Content drifting right means the camera turns left.
    assert f"The camera {words}" in _caption(segment).text


def test_still_video_is_called_still():
    segment = VideoSegment(index=0, frames=np.stack([textured_image()] * 6), fps=25.0, t0=0.0)
    caption = _caption(segment)
    assert "The camera is almost still" in caption.text
    assert abs(caption.facts.motion.dx) < 0.05 and abs(caption.facts.motion.dy) < 0.05
    assert not caption.facts.talking and caption.facts.subject_share < 0.03


def test_a_moving_object_on_a_still_background_is_subject_motion():
    background = textured_image(seed=5)
    frames = []
    for t in range(12):
        frame = background.copy()
        x = 40 + 6 * t
        frame[100:160, x : x + 60] = textured_image(60, 60, seed=8)
        frames.append(frame)
    segment = VideoSegment(index=0, frames=np.stack(frames), fps=25.0, t0=0.0)
    facts = _caption(segment).facts
    assert abs(facts.motion.dx) < 0.5  # the camera stands still
    assert facts.subject_dx > 2.0 and abs(facts.subject_dy) < 1.5
    assert facts.moving_objects >= 1
    assert "moves" in _caption(segment).text


def test_scene_cut_is_found_and_told():
    caption = _caption(_two_shots())
    assert caption.facts.cuts == pytest.approx((1.0,))
    assert "The shot changes at 1.0 s" in caption.text


def test_colours_are_named():
    image = np.zeros((60, 80, 3), dtype=np.uint8)
    image[:, :40] = (200, 30, 30)
    image[:, 40:] = (40, 70, 190)
    names = [name for name, _ in dominant_colours(image, count=2)]
    assert set(names) == {"red", "blue"}


@pytest.mark.parametrize("value", [0, 255])
def test_black_and_white_frames_get_a_sensible_caption(value):
    frames = np.full((8, 240, 320, 3), value, dtype=np.uint8)
    caption = _caption(VideoSegment(index=0, frames=frames, fps=25.0, t0=0.0))
    # Nothing was seen, and nothing is claimed: not even an absence of people.
    assert "person" not in caption.text and "people" not in caption.text
    assert ("dimly" if value == 0 else "brightly") in caption.text
    assert caption.text.endswith(f"Main colours: {'black' if value == 0 else 'white'}.")


def test_single_frame_and_odd_sizes_are_captioned():
    single = VideoSegment(index=0, frames=textured_image()[None], fps=25.0, t0=0.0)
    assert "almost still" in _caption(single).text
    odd = VideoSegment(index=0, frames=np.stack([textured_image(37, 53)] * 3), fps=7.0, t0=0.0)
    assert _caption(odd).text


def test_granularity_changes_the_detail():
    segment = panning_segment(3, 0)
    texts = {g: _caption(segment, CaptionSettings(granularity=g)).text for g in Granularity}
    assert len(texts[Granularity.SHORT]) < len(texts[Granularity.NORMAL])
    assert len(texts[Granularity.NORMAL]) < len(texts[Granularity.DETAILED])
    assert "Dominant colours" not in texts[Granularity.SHORT]
    assert "pixels per frame" in texts[Granularity.DETAILED]


def test_privacy_removes_identity_words():
    assert scrub_identity("An old man talks to his wife.") == "A person talks to their wife."
    assert scrub_identity("She is a young blonde woman.") == "They is a person."
    assert "skin" not in scrub_identity("Dominant colours: red, skin tone, blue.")
    facts = SceneFacts(people=1, colours=("skin tone", "navy"))
    segment = VideoSegment(index=0, frames=np.stack([textured_image()] * 2), fps=25.0, t0=0.0)
    analysis = SceneAnalyser().analyse(segment)
    analysis = type(analysis)(facts, analysis.candidates, analysis.mean_thumbnail, ())
    private = MeasuredFactsCaptioner().caption(segment, analysis, CaptionSettings(privacy=True))
    assert "skin" not in private.text and "navy" in private.text


def test_sender_builds_a_payload_and_times_its_steps():
    segment = panning_segment(1, 0)
    sender = SenderStage(
        MeasuredFactsCaptioner(), ScoredKeyframeSelector(), SenderSettings("vq", max_keyframes=1)
    )
    trace = SegmentTrace(index=0)
    payload = sender.describe(segment, trace)
    assert payload is not None and payload.num_frames == segment.num_frames and payload.caption
    assert len(payload.keyframes) == 1
    assert payload.facts.motion.dx == pytest.approx(1.0, abs=0.35)
    assert {"analyse", "caption", "select", "encode"} <= set(trace.timings_ms)


def test_empty_segment_is_dropped_with_a_reason():
    empty = VideoSegment(index=0, frames=np.zeros((0, 240, 320, 3), np.uint8), fps=25.0, t0=0.0)
    trace = SegmentTrace(index=0)
    sender = SenderStage(
        MeasuredFactsCaptioner(), ScoredKeyframeSelector(), SenderSettings("vq", max_keyframes=1)
    )
    assert sender.describe(empty, trace) is None
    assert trace.dropped == "segment holds no frames"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"granularity": "huge"}, "--granularity"),
        ({"face_policy": "hide"}, "--faces"),
        ({"captioner": "gpt"}, "--captioner"),
        ({"captioner": "vlm"}, "--vlm-model"),
        ({"captioner": "vlm", "captioner_options": VlmOptions("/no/such/model")}, "no model"),
        ({"codec": "vq:K3"}, "--codec"),
        ({"codec": "vq:K999"}, "no variant 'K999' here; it runs K256, K512"),
        ({"codec": "jpeg"}, "--codec must be one of vq, ae, thumbnail"),
        ({"max_keyframes": 9}, "--max-keyframes"),
        ({"latency_budget_ms": -1.0}, "--latency-budget-ms"),
    ],
)
def test_bad_sender_options_fail_at_start_up(settings, message):
    with pytest.raises(InputError, match=message):
        build_sender(SenderConfig(**settings))


# --- privacy ----------------------------------------------------------------------------------


def _carphone_face_frame(carphone_frames):
    for frame in carphone_frames:
        if detect_faces(frame):
            return frame
    raise AssertionError("no carphone frame shows a detectable face")


@pytest.mark.parametrize("policy", [FacePolicy.BLUR, FacePolicy.MASK])
def test_hidden_face_is_not_detectable_after_the_codec(carphone_frames, policy):
    frame = _carphone_face_frame(carphone_frames)
    codec = make_codec("ae")  # the high-fidelity codec: if a face survived, it would be seen
    size = (frame.shape[1], frame.shape[0])
    kept = codec.decode(codec.encode(frame), size)
    assert detect_faces(kept, work_width=320), "control: the codec keeps a visible face"
    hidden = FaceHider(policy).apply(frame)
    decoded = codec.decode(codec.encode(hidden), size)
    assert detect_faces(decoded, work_width=320) == []
    # Only the (grown) face region changes: the bottom corners stay as they were.
    changed = np.any(hidden != frame, axis=2)
    assert changed.mean() < 0.5
    assert not changed[-30:, :30].any() and not changed[-30:, -30:].any()


def test_keep_policy_returns_the_frame_untouched(carphone_frames):
    frame = carphone_frames[0]
    assert FaceHider(FacePolicy.KEEP).apply(frame) is frame


# --- keyframe selection (eq. 4) -----------------------------------------------------------------


def _select(selector, segment, count=1):
    analysis = SceneAnalyser().analyse(segment)
    return selector.select(segment, analysis, count, "")


def test_the_sharpest_well_exposed_frame_wins():
    sharp = textured_image(seed=9, cell=4)
    blurred = cv2.GaussianBlur(sharp, (9, 9), 4)
    frames = np.stack([blurred] * 5 + [sharp] + [blurred] * 6)
    segment = VideoSegment(index=0, frames=frames, fps=25.0, t0=0.0)
    selector = ScoredKeyframeSelector()
    analysis = SceneAnalyser(candidates=12).analyse(segment)
    (keyframe,) = selector.select(segment, analysis, 1, "").keyframes
    assert keyframe.frame_index == 5


def test_a_dark_frame_loses_to_a_well_exposed_one():
    good = textured_image(seed=4)
    dark = (good // 8).astype(np.uint8)
    frames = np.stack([dark] * 6 + [good] * 6)
    segment = VideoSegment(index=0, frames=frames, fps=25.0, t0=0.0)
    (keyframe,) = _select(ScoredKeyframeSelector(), segment).keyframes
    assert keyframe.frame_index >= 6


def test_two_keyframes_come_from_the_two_shots():
    choice = _select(ScoredKeyframeSelector(), _two_shots(), count=2)
    indices = [k.frame_index for k in choice.keyframes]
    assert len(indices) == 2 and indices[0] < 10 <= indices[1]


def test_diversity_stops_at_one_keyframe_for_a_still_scene():
    segment = VideoSegment(index=0, frames=np.stack([textured_image()] * 12), fps=25.0, t0=0.0)
    assert len(_select(ScoredKeyframeSelector(), segment, count=3).keyframes) == 1


def test_unchanged_scene_sends_no_keyframe_until_it_changes():
    still = VideoSegment(index=0, frames=np.stack([textured_image()] * 8), fps=25.0, t0=0.0)
    noise = np.random.default_rng(0).integers(-3, 4, still.frames.shape)
    noisy = np.clip(still.frames.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    changed = VideoSegment(index=2, frames=np.stack([textured_image(seed=7)] * 8), fps=25.0, t0=0.0)
    selector = ScoredKeyframeSelector(max_reuse=4)
    assert len(_select(selector, still).keyframes) == 1
    again = _select(selector, VideoSegment(index=1, frames=noisy, fps=25.0, t0=0.32))
    assert again.keyframes == () and "unchanged" in again.skipped_reason
    assert len(_select(selector, changed).keyframes) == 1


def test_reuse_is_capped_and_reset_by_damage_reports():
    still = VideoSegment(index=0, frames=np.stack([textured_image()] * 4), fps=25.0, t0=0.0)
    selector = ScoredKeyframeSelector(max_reuse=2)
    sent = [len(_select(selector, still).keyframes) for _ in range(6)]
    assert sent == [1, 0, 0, 1, 0, 0]
    selector.forget_last_sent()
    assert len(_select(selector, still).keyframes) == 1


def test_caption_relevance_can_steer_the_choice():
    frames = np.stack([textured_image(seed=s) for s in range(6)])
    segment = VideoSegment(index=0, frames=frames, fps=25.0, t0=0.0)

    def likes_frame_four(images, caption):
        return [1.0 if np.array_equal(image, frames[4]) else 0.0 for image in images]

    selector = ScoredKeyframeSelector(
        relevance=likes_frame_four, weights=ScoreWeights(relevance=10.0)
    )
    analysis = SceneAnalyser(candidates=6, per_second=100).analyse(segment)
    (keyframe,) = selector.select(segment, analysis, 1, "a caption").keyframes
    assert keyframe.frame_index == 4


def test_motion_hints_default_is_still():
    assert MotionHints() == MotionHints(0.0, 0.0, 0.0, 0.0)


def test_every_shot_gets_a_keyframe_before_a_shot_gets_two():
    green = textured_image(seed=1) // 2 + np.array([0, 120, 0], np.uint8)
    red = textured_image(seed=2) // 2 + np.array([120, 0, 0], np.uint8)
    # The second shot is longer and has the sharper frames: a plain greedy pick takes two there.
    frames = np.stack([cv2.GaussianBlur(green, (15, 15), 6) // 3] * 8 + [red] * 16)
    segment = VideoSegment(index=0, frames=frames, fps=25.0, t0=0.0)
    analysis = SceneAnalyser(candidates=8).analyse(segment)
    assert analysis.cut_frames == (8,)
    indices = [
        k.frame_index for k in ScoredKeyframeSelector().select(segment, analysis, 2, "").keyframes
    ]
    assert len(indices) == 2 and indices[0] < 8 <= indices[1]
