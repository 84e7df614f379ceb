"""The vision-language captioner's real code on a tiny random-weight BLIP built from a config."""

import numpy as np
import pytest

pytest.importorskip("transformers")

from mirage_stream.errors import InputError
from mirage_stream.pipeline import SegmentTrace
from mirage_stream.sender import CaptionSettings, Granularity, SceneAnalyser
from mirage_stream.sender.caption_backends import VlmOptions
from mirage_stream.sender.config import SenderConfig
from mirage_stream.sender.factory import build_sender
from mirage_stream.sender.vlm import VlmCaptioner
from mirage_stream.types import VideoSegment
from tests.conftest import panning_segment

WORDS = "a person talks in a car video frame of street with bikes the camera pans left man his"


@pytest.fixture(scope="module")
def tiny_blip(tmp_path_factory):
    """Save a 2-layer BLIP with a word-level tokenizer to a folder, as a user's model would be."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import (
        BertTokenizerFast,
        BlipConfig,
        BlipForConditionalGeneration,
        BlipImageProcessor,
        BlipProcessor,
    )

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    words = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    words.pre_tokenizer = pre_tokenizers.Whitespace()
    words.train_from_iterator([WORDS], trainers.WordLevelTrainer(special_tokens=specials))
    tokenizer = BertTokenizerFast(
        tokenizer_object=words,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )
    tiny = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2}
    config = BlipConfig(
        text_config={
            **tiny,
            "vocab_size": len(tokenizer),
            "intermediate_size": 37,
            "max_position_embeddings": 128,
            "bos_token_id": tokenizer.cls_token_id,
            "pad_token_id": tokenizer.pad_token_id,
            "sep_token_id": tokenizer.sep_token_id,
            "eos_token_id": tokenizer.sep_token_id,
        },
        vision_config={**tiny, "intermediate_size": 37, "image_size": 32, "patch_size": 8},
        projection_dim=32,
    )
    folder = tmp_path_factory.mktemp("tiny-blip")
    BlipForConditionalGeneration(config).eval().save_pretrained(folder)
    BlipProcessor(
        image_processor=BlipImageProcessor(size={"height": 32, "width": 32}), tokenizer=tokenizer
    ).save_pretrained(folder)
    return folder


def _segment():
    return panning_segment(2, 0)


@pytest.mark.parametrize("granularity", list(Granularity))
def test_vlm_captions_sampled_frames_in_time_order(tiny_blip, granularity):
    captioner = VlmCaptioner.from_pretrained(str(tiny_blip))
    segment = _segment()
    analysis = SceneAnalyser().analyse(segment)
    caption = captioner.caption(segment, analysis, CaptionSettings(granularity=granularity))
    assert caption.text and caption.facts == analysis.facts
    if granularity is Granularity.SHORT:
        assert caption.text.startswith("A video of")
    else:
        assert caption.text.startswith("At first,") and "Finally," in caption.text


def test_vlm_output_is_scrubbed_under_privacy(tiny_blip):
    captioner = VlmCaptioner.from_pretrained(str(tiny_blip))
    segment = _segment()
    analysis = SceneAnalyser().analyse(segment)
    text = captioner.caption(segment, analysis, CaptionSettings(privacy=True)).text
    words = set(text.lower().replace(",", " ").replace(".", " ").split())
    assert not words & {"man", "his", "woman", "her"}


def test_vlm_is_chosen_by_name_in_the_sender(tiny_blip):
    sender = build_sender(
        SenderConfig(captioner="vlm", captioner_options=VlmOptions(str(tiny_blip)))
    )
    assert sender.captioner.name == "vlm"
    frames = np.stack([_segment().frames[0]] * 3)
    payload = sender.describe(VideoSegment(0, frames, 25.0, 0.0), SegmentTrace(index=0))
    assert payload is not None and payload.caption


def test_missing_vlm_folder_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="no model folder"):
        VlmCaptioner.from_pretrained(str(tmp_path / "absent"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="cannot load"):
        VlmCaptioner.from_pretrained(str(tmp_path / "empty"))


def test_unknown_hub_id_offline_is_a_clear_error():
    with pytest.raises(InputError, match="cannot load"):
        VlmCaptioner.from_pretrained("nobody/no-such-model-here")


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    """A 2-layer CLIP with a small BPE tokenizer, saved to a folder."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import (
        CLIPConfig,
        CLIPImageProcessor,
        CLIPModel,
        CLIPProcessor,
        CLIPTokenizerFast,
    )

    specials = ["<|startoftext|>", "<|endoftext|>", "[UNK]"]
    bpe = Tokenizer(models.BPE(unk_token="[UNK]", end_of_word_suffix="</w>"))
    bpe.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(special_tokens=specials, end_of_word_suffix="</w>", vocab_size=80)
    bpe.train_from_iterator([WORDS], trainer)
    tokenizer = CLIPTokenizerFast(
        tokenizer_object=bpe,
        unk_token="[UNK]",
        bos_token="<|startoftext|>",
        eos_token="<|endoftext|>",
        pad_token="<|endoftext|>",
    )
    tiny = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2}
    config = CLIPConfig(
        text_config={
            **tiny,
            "vocab_size": len(tokenizer),
            "intermediate_size": 37,
            "max_position_embeddings": 77,
            "bos_token_id": tokenizer.bos_token_id,
            "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id,
        },
        vision_config={**tiny, "intermediate_size": 37, "image_size": 32, "patch_size": 8},
        projection_dim=16,
    )
    folder = tmp_path_factory.mktemp("tiny-clip")
    CLIPModel(config).eval().save_pretrained(folder)
    CLIPProcessor(
        image_processor=CLIPImageProcessor(
            size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}
        ),
        tokenizer=tokenizer,
    ).save_pretrained(folder)
    return folder


def test_clip_relevance_scores_frames_in_unit_range(tiny_clip):
    from mirage_stream.sender.relevance import ClipRelevance

    scorer = ClipRelevance.from_pretrained(str(tiny_clip))
    frames = [panning_segment(dx, 0).frames[5] for dx in (0, 3, 6)]
    scores = scorer(frames, "a person talks in a car")
    assert len(scores) == 3 and min(scores) == 0.0 and max(scores) == 1.0
    assert scorer(frames, "") == [0.0, 0.0, 0.0]


def test_clip_model_feeds_the_keyframe_selector(tiny_clip):
    sender = build_sender(SenderConfig(clip_model=str(tiny_clip), max_keyframes=2))
    assert sender.selector.relevance is not None
    payload = sender.describe(panning_segment(3, 0), SegmentTrace(index=0))
    assert payload is not None and payload.keyframes


def test_missing_clip_folder_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="--clip-model"):
        build_sender(SenderConfig(clip_model=str(tmp_path / "absent")))
