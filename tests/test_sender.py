import numpy as np
import pytest

from mirage_stream.codecs import ThumbnailCodec
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.sender import MeasuredFactsCaptioner, SenderStage, SharpestFrameSelector
from mirage_stream.sender.measure import dominant_colours, measure_motion
from mirage_stream.types import VideoSegment
from tests.conftest import panning_segment, textured_image


@pytest.mark.parametrize(("dx", "dy", "word"), [(3, 0, "right"), (-3, 0, "left"), (0, 2, "down")])
def test_global_motion_is_measured_in_pixels_per_frame(dx, dy, word):
    segment = panning_segment(dx, dy)
    motion = measure_motion(segment.frames)
    assert motion.dx == pytest.approx(dx, abs=0.35)
    assert motion.dy == pytest.approx(dy, abs=0.35)
    caption = MeasuredFactsCaptioner().caption(segment)
    assert f"drifts steadily {word}" in caption.text


def test_still_video_is_called_still():
    image = textured_image()
    segment = VideoSegment(index=0, frames=np.stack([image] * 6), fps=25.0, t0=0.0)
    caption = MeasuredFactsCaptioner().caption(segment)
    assert "almost still" in caption.text
    assert abs(caption.motion.dx) < 0.05 and abs(caption.motion.dy) < 0.05


def test_carphone_caption_states_one_face(carphone_frames):
    segment = VideoSegment(index=0, frames=carphone_frames, fps=29.97, t0=0.0)
    caption = MeasuredFactsCaptioner().caption(segment)
    assert caption.faces == 1
    assert caption.text.startswith("One face is visible")


def test_colours_are_named():
    image = np.zeros((60, 80, 3), dtype=np.uint8)
    image[:, :40] = (200, 30, 30)
    image[:, 40:] = (40, 70, 190)
    names = [name for name, _ in dominant_colours(image, count=2)]
    assert set(names) == {"red", "blue"}


def test_single_frame_segment_is_captioned():
    segment = VideoSegment(index=0, frames=textured_image()[None], fps=25.0, t0=0.0)
    caption = MeasuredFactsCaptioner().caption(segment)
    assert "almost still" in caption.text


def test_sharpest_frame_is_selected():
    import cv2

    sharp = textured_image(seed=9)
    blurred = cv2.GaussianBlur(sharp, (9, 9), 4)
    frames = np.stack([blurred] * 5 + [sharp] + [blurred] * 6)
    segment = VideoSegment(index=0, frames=frames, fps=25.0, t0=0.0)
    (keyframe,) = SharpestFrameSelector(candidates=12).select(segment)
    assert keyframe.frame_index == 5


def test_sender_builds_a_payload_and_times_its_steps():
    segment = panning_segment(1, 0)
    sender = SenderStage(MeasuredFactsCaptioner(), SharpestFrameSelector(), ThumbnailCodec())
    trace = SegmentTrace(index=0)
    payload = sender.describe(segment, trace)
    assert payload.num_frames == segment.num_frames and payload.caption
    assert len(payload.keyframes) == 1
    assert {"caption", "select", "encode"} <= set(trace.timings_ms)
