"""Truthful captions: people found where they walk, claims only with evidence, colour names a
person would use, confidence on the wire, and the labelled evaluation set that checks it all."""

import json

import numpy as np
import pytest

from mirage_stream.bench.caption import CaptionBenchConfig, bench_caption
from mirage_stream.bench.caption_score import verdict
from mirage_stream.bench.caption_set import (
    ACTIONS,
    CAMERA_LABELS,
    ClipLabels,
    load_caption_set,
    write_clip,
)
from mirage_stream.bench.labels import labelled_clip
from mirage_stream.bench.scenes import draw_person
from mirage_stream.cli import main
from mirage_stream.errors import InputError, PayloadError
from mirage_stream.sender import CaptionSettings, MeasuredFactsCaptioner, SceneAnalyser
from mirage_stream.sender.captioner import caption_sentences, describe
from mirage_stream.sender.colours import dominant_colours
from mirage_stream.sender.people import find_people
from mirage_stream.sender.sentences import Statement
from mirage_stream.sources import FileSource, SourceConfig
from mirage_stream.sources.file_source import fit_frame
from mirage_stream.types import DetailFrame, FactConfidence, SceneFacts, VideoSegment
from mirage_stream.wire.facts import pack_facts, unpack_facts


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise PayloadError(message)


def _walkers(speeds, size=(640, 480), height=90, frames=50, seed=0, starts=None):
    """Source-size frames of figures walking over a noisy grey street, and their segment."""
    rng = np.random.default_rng(seed)
    width, rows = size
    background = np.full((rows, width, 3), 150, np.uint8)
    background[: rows // 3] = (200, 205, 210)
    source = []
    for t in range(frames):
        canvas = background.copy()
        for k, speed in enumerate(speeds):
            start = starts[k] if starts else 0.2 + 0.6 * k / max(1, len(speeds))
            x = start * width + speed * t
            draw_person(
                canvas, x, 0.85 * rows, height, t * abs(speed) / 25.0, (180, 40, 40), (40, 40, 50)
            )
        noisy = canvas.astype(np.float32) + rng.normal(0, 2.0, canvas.shape)
        source.append(np.clip(noisy, 0, 255).astype(np.uint8))
    working = np.stack([fit_frame(frame, 320, 240) for frame in source])
    details = tuple(
        DetailFrame(i, source[i]) for i in (0, frames // 3, 2 * frames // 3, frames - 1)
    )
    return VideoSegment(0, working, 25.0, 0.0, details)


def test_a_person_walking_right_is_found_and_said_to_walk_right():
    segment = _walkers([3.0])
    finding = find_people(segment.frames, (), segment.detail)
    stated = finding.people(FactConfidence.STATED)
    assert len(stated) == 1 and stated[0].walking == "right"
    # 90 px tall at 480 is 45 px in the working copy: too small for HOG on the working frame.
    assert 35 <= stated[0].box.height <= 55
    caption = MeasuredFactsCaptioner().caption(
        segment, SceneAnalyser().analyse(segment), CaptionSettings()
    )
    assert caption.text.startswith("At least one person walks to the right.")
    assert caption.facts.walking == "right" and caption.facts.people_at_least


def test_a_walker_whose_legs_vanish_against_a_dark_railing_is_still_followed(tmp_path):
    from mirage_stream.bench.caption_set import EvalClip

    # Not a clip of the evaluation set: a development scene like those the finder was fixed on.
    recipe = {
        "kind": "walkers",
        "size": [640, 480],
        "background": "sample:bikes@178",
        "figures": [{"x": 0.25, "y": 0.9, "height": 70, "speed": 2.5, "shirt": [123, 90, 120]}],
    }
    clip = EvalClip("railing-walker", "dev", recipe, _labels(), "")
    source = FileSource(write_clip(clip, tmp_path), SourceConfig())
    try:
        segment = next(source.iter_segments(10.0))
    finally:
        source.close()
    stated = find_people(segment.frames, (), segment.detail).people(FactConfidence.STATED)
    assert [track.walking for track in stated] == ["right"]


def test_people_walking_both_ways_are_counted_as_a_lower_bound():
    # Lanes that do not cross: crossing walkers swap tracks, and then neither counts as walking.
    segment = _walkers([2.5, 2.0, -2.5], size=(768, 576), height=80, starts=[0.1, 0.3, 0.9])
    facts = SceneAnalyser().analyse(segment).facts
    assert facts.walking == "both" and facts.people_at_least
    assert 2 <= facts.people <= 3
    assert "walk across the view in both directions" in describe(facts, CaptionSettings())


def test_a_still_empty_scene_states_no_people_and_no_absence():
    segment = _walkers([])
    facts = SceneAnalyser().analyse(segment).facts
    assert facts.people == 0 and facts.confidence.people == 0.0
    text = describe(facts, CaptionSettings())
    assert "person" not in text and "people" not in text
    assert "The camera is almost still." in text


def test_standing_figures_give_no_movers():
    segment = _walkers([0.0, 0.0])
    finding = find_people(segment.frames, (), segment.detail)
    assert finding.people(FactConfidence.STATED) == ()


def test_colour_names_a_person_would_use():
    table = np.full((240, 320, 3), (128, 126, 124), np.uint8)  # a grey table
    table[150:200, 100:170] = (240, 210, 30)  # a yellow box, about 5% of the view
    names = [name for name, _ in dominant_colours(table)]
    assert names[0] == "grey" and "yellow" in names
    warm_wall = np.full((240, 320, 3), (200, 170, 150), np.uint8)
    assert "skin tone" not in [name for name, _ in dominant_colours(warm_wall)]
    shadow = np.full((240, 320, 3), (40, 44, 56), np.uint8)  # dark, faintly blue: not "navy"
    assert dominant_colours(shadow)[0][0] in ("black", "dark grey")


def test_claims_below_the_stated_confidence_are_not_written_or_acted_on():
    unsure = SceneFacts(
        people=2,
        talking=True,
        outdoors=True,
        walking="left",
        confidence=FactConfidence(people=0.4, talking=0.4, outdoors=0.4, walking=0.4, camera=0.3),
    )
    text = describe(unsure, CaptionSettings())
    assert "people" not in text and "outdoors" not in text and "camera" not in text
    trusted = unsure.trusted()
    assert (trusted.people, trusted.talking, trusted.outdoors, trusted.walking) == (
        0,
        False,
        False,
        "",
    )
    sure = SceneFacts(people=1, talking=True, faces=(), confidence=FactConfidence())
    assert sure.trusted() == sure


def test_every_sentence_lists_its_claims():
    facts = SceneFacts(
        people=3, people_at_least=True, walking="right", cuts=(0.8,), colours=("grey",)
    )
    claims = [
        claim
        for sentence in caption_sentences(facts, CaptionSettings())
        for claim in sentence.claims
    ]
    assert Statement("people", (3, 99)) in claims and Statement("walking", "right") in claims
    assert Statement("cut", 0.8) in claims and Statement("colour", "grey") in claims
    assert Statement("camera", "still") in claims


def test_confidence_and_walking_cross_the_wire_and_old_hints_still_decode():
    facts = SceneFacts(
        people=4,
        walking="both",
        people_at_least=True,
        confidence=FactConfidence(
            people=0.75,
            talking=0.0,
            gesturing=0.0,
            walking=0.75,
            outdoors=0.7,
            animation=0.5,
            camera=0.8,
        ),
    )
    assert unpack_facts(pack_facts(facts), _require) == facts
    legacy = pack_facts(facts)[:16]
    decoded = unpack_facts(legacy, _require)
    assert decoded.confidence == FactConfidence() and decoded.walking == ""
    broken = pack_facts(facts)
    broken[16][2][0] = 101
    with pytest.raises(PayloadError):
        unpack_facts(broken, _require)


def _labels(**changes):
    values = {
        "people": [2, 3],
        "actions": ["walking"],
        "walking": "left",
        "camera": ["still"],
        "cuts": [1.0],
        "setting": "outdoor",
        "colours": ["grey"],
    }
    values.update(changes)
    return ClipLabels.from_json(values)


def test_claims_are_scored_against_labels():
    labels = _labels()
    assert verdict(Statement("people", (3, 99)), labels) is True
    assert verdict(Statement("people", (1, 1)), labels) is False
    assert verdict(Statement("walking", "right"), labels) is False
    assert verdict(Statement("walking", "both"), labels) is True
    assert verdict(Statement("talking", 1.0), labels) is False
    assert verdict(Statement("camera", "pan left"), labels) is False
    assert verdict(Statement("camera", "shake"), labels) is None
    assert (
        verdict(Statement("cut", 1.2), labels) is True
        and verdict(Statement("cut", 1.4), labels) is False
    )
    assert verdict(Statement("colour", "yellow"), labels) is False
    assert verdict(Statement("outdoors", 1.0), _labels(setting="unknown")) is None
    with pytest.raises(ValueError):
        _labels(camera=["dolly"])


def test_the_evaluation_set_has_two_halves_of_labelled_clips():
    clips = load_caption_set()
    assert len(clips) >= 16
    splits = {clip.split for clip in clips}
    assert splits == {"tune", "test"}
    assert all(sum(c.split == s for c in clips) >= 8 for s in splits)
    for clip in clips:
        assert set(clip.labels.camera) <= set(CAMERA_LABELS)
        assert set(clip.labels.actions) <= set(ACTIONS)
        assert clip.labels.colours and clip.description
    kinds = {clip.recipe["kind"] for clip in clips}
    assert {"sample", "walkers", "object", "pan", "zoom", "cut"} <= kinds
    assert any((clip.labels.person_px or 0) >= 30 and clip.labels.walking for clip in clips)
    with pytest.raises(InputError):
        labelled_clip("caption-set:no-such-clip")


def test_a_composed_clip_keeps_its_source_size_and_detail_frames(tmp_path):
    clip = labelled_clip("caption-set:plaza-one")
    path = write_clip(clip, tmp_path)
    assert path.suffix == ".mkv"
    source = FileSource(path, SourceConfig())
    try:
        assert source.source_size == (640, 480)
        segment = next(source.iter_segments(10.0))
    finally:
        source.close()
    assert segment.frames.shape[1:] == (240, 320, 3)
    assert len(segment.detail) == 4
    assert all(d.image.shape == (480, 640, 3) and d.scale(320) == 2.0 for d in segment.detail)


def test_bench_caption_scores_one_input_against_its_labels(tmp_path, capsys):
    path = write_clip(labelled_clip("caption-set:plaza-left"), tmp_path)
    assert (
        main(
            [
                "bench",
                "caption",
                "--input",
                str(path),
                "--labels",
                "caption-set:plaza-left",
                "--json",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    scored = result["sets"]["input"]["all"]
    assert scored["clips"] == 1 and scored["false_statements"] == []
    assert scored["walking_recall"] == 1.0 and "rtf" in scored  # speed: the bench's figure
    assert set(scored["facts"]) >= {"people", "walking", "camera", "colour"}


def test_bench_caption_needs_labels_with_an_input(capsys):
    assert main(["bench", "caption", "--input", "sample:bikes"]) != 0
    assert "--labels" in capsys.readouterr().err


@pytest.mark.slow
def test_bench_caption_on_the_whole_set_states_nothing_false(tmp_path):
    result = bench_caption(CaptionBenchConfig(clips_dir=tmp_path, sets=("composed",)))
    composed = result.sets["composed"]
    assert composed["all"].clips == len(load_caption_set())
    assert composed["tune"].false_statements == []
    assert composed["test"].false_statements == []
    assert composed["all"].rtf is not None  # measured; its bound is the bench's figure


def test_bench_receiver_scores_generated_facts_against_labels(tmp_path):
    from mirage_stream.bench.receiver import _label_facts

    path = write_clip(labelled_clip("caption-set:plaza-left"), tmp_path)
    source = FileSource(path, SourceConfig())
    try:
        segment = next(source.iter_segments(10.0))
    finally:
        source.close()
    # A "generated" video that is a frozen first frame: nobody walks in it any more.
    frozen = VideoSegment(0, np.repeat(segment.frames[:1], segment.num_frames, axis=0), 25.0, 0.0)
    scored = _label_facts("caption-set:plaza-left", [(segment, frozen)])
    assert scored["source"].walking_recall == 1.0
    assert scored["generated"].walking_recall == 0.0
    assert scored["generated"].false_statements == []


def test_a_yellow_box_sliding_over_grey_is_said_to_be_yellow():
    import cv2

    rng = np.random.default_rng(0)
    frames = []
    for t in range(25):
        frame = np.clip(np.full((240, 320, 3), 128.0) + rng.normal(0, 3, (240, 320, 3)), 0, 255)
        frame = frame.astype(np.uint8)
        cv2.rectangle(frame, (60 + 4 * t, 100), (120 + 4 * t, 150), (240, 210, 30), -1)
        frames.append(frame)
    segment = VideoSegment(0, np.stack(frames), 25.0, 0.0)
    facts = SceneAnalyser().analyse(segment).facts
    assert facts.subject_colour == "yellow"
    text = describe(facts, CaptionSettings())
    assert "Something yellow moves" in text and "right" in text


def test_a_post_drifting_with_a_slow_pan_is_not_a_walker():
    import cv2
    from skimage import data as skdata

    # Paving seen through a slow pan, and a tall thin bollard drifting left with it: the flow
    # sees the pan, while the paving's low contrast keeps most of it out of the foreground.
    paving = cv2.resize(np.stack([skdata.gravel()] * 3, axis=-1), (480, 240))
    paving = cv2.addWeighted(paving, 0.35, np.full_like(paving, 150), 0.65, 0)
    cv2.rectangle(paving, (240, 40), (246, 236), (30, 30, 35), -1)
    frames = np.stack([paving[:, int(0.8 * t) : int(0.8 * t) + 320] for t in range(50)])
    facts = SceneAnalyser().analyse(VideoSegment(0, frames, 25.0, 0.0)).facts
    assert facts.motion.pans
    assert facts.walking == "" and facts.people == 0
