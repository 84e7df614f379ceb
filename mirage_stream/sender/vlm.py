"""Vision-language captioner on transformers (eq. 2-3 with a learned backbone).

Any image-text-to-text model that ``AutoModelForImageTextToText`` loads works. Models whose
processor has a chat template (SmolVLM / Idefics3, Qwen2-VL, LLaVA) see the sampled frames in
one prompt that sets the granularity; prefix captioners without one (BLIP) caption each sampled
frame after a short text prefix, and the frame captions are joined in time order. No weights
ship with the project: load a local folder or a hub id already in the cache (``local_files_only``
unless downloads are allowed).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mirage_stream.anonymise import scrub_identity
from mirage_stream.hub import load_processor_and_model
from mirage_stream.sender.analysis import SegmentAnalysis
from mirage_stream.sender.captioner import CaptionSettings
from mirage_stream.types import Caption, Granularity, VideoSegment

_PROMPTS = {
    Granularity.SHORT: "Describe this video in one short sentence.",
    Granularity.NORMAL: (
        "Describe this video in two or three sentences: who or what is in it, what they do, "
        "how the camera moves, the place, and the visual style."
    ),
    Granularity.DETAILED: (
        "Describe this video in detail: the people or objects and where they are, their "
        "actions and motion over time, the camera motion, scene changes, the place and "
        "lighting, the colours and the visual style."
    ),
}
_PRIVACY = (
    " Do not mention gender, age, ethnicity, skin, hair or anything else that could identify"
    " a person."
)
_FRAMES = {Granularity.SHORT: 1, Granularity.NORMAL: 2, Granularity.DETAILED: 3}
_TOKENS = {Granularity.SHORT: 24, Granularity.NORMAL: 60, Granularity.DETAILED: 120}
_TIME_WORDS = ("At first", "Then", "Finally")
_PREFIX = "a video frame of"


@dataclass
class VlmCaptioner:
    """Captions sampled frames of a segment with a loaded vision-language model."""

    model: Any  # a transformers PreTrainedModel with generate()
    processor: Any  # its processor (image processor + tokenizer, maybe a chat template)
    source: str = ""
    name: str = "vlm"

    @classmethod
    def from_pretrained(
        cls, path_or_id: str, *, allow_download: bool = False, device: str | None = None
    ) -> VlmCaptioner:
        """Load from a local folder or a hub id (from the local cache unless ``allow_download``).

        Raises ``InputError`` naming the path when nothing loadable is there, so that a wrong
        path stops the sender at start-up rather than mid-call.
        """
        import torch
        from transformers import AutoModelForImageTextToText

        processor, model = load_processor_and_model(
            path_or_id,
            AutoModelForImageTextToText,
            "--vlm-model",
            "an image-text-to-text model",
            allow_download,
        )
        chosen = device or ("cuda" if torch.cuda.is_available() else "cpu")
        return cls(model=model.to(chosen).eval(), processor=processor, source=path_or_id)

    def _sampled_frames(self, segment: VideoSegment, count: int) -> list[np.ndarray]:
        picks = np.linspace(0, segment.num_frames - 1, num=min(count, segment.num_frames))
        return [segment.frames[int(i)] for i in picks.round().astype(int)]

    def _generate(self, inputs: Any, max_new_tokens: int) -> Any:
        import torch

        inputs = inputs.to(self.model.device)
        with torch.inference_mode():
            return self.model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)

    def _chat_caption(self, frames: list[np.ndarray], prompt: str, tokens: int) -> str:
        content: list[dict[str, str]] = [{"type": "image"} for _ in frames]
        content.append({"type": "text", "text": prompt})
        messages = [{"role": "user", "content": content}]
        text = self.processor.apply_chat_template(messages, add_generation_prompt=True)
        inputs = self.processor(text=[text], images=[frames], return_tensors="pt")
        output = self._generate(inputs, tokens)
        new_tokens = output[:, inputs["input_ids"].shape[1] :]
        return str(self.processor.batch_decode(new_tokens, skip_special_tokens=True)[0]).strip()

    def _prefix_captions(self, frames: list[np.ndarray], tokens: int) -> str:
        inputs = self.processor(images=frames, text=[_PREFIX] * len(frames), return_tensors="pt")
        output = self._generate(inputs, tokens)
        texts = [
            str(text).strip().removeprefix(_PREFIX).strip()
            for text in self.processor.batch_decode(output, skip_special_tokens=True)
        ]
        if len(texts) == 1:
            return f"A video of {texts[0]}."
        words = _TIME_WORDS if len(texts) == 3 else (_TIME_WORDS[0], _TIME_WORDS[2])
        return " ".join(f"{word}, {text}." for word, text in zip(words, texts, strict=False))

    def caption(
        self, segment: VideoSegment, analysis: SegmentAnalysis, settings: CaptionSettings
    ) -> Caption:
        detail = settings.granularity
        frames = self._sampled_frames(segment, _FRAMES[detail])
        if getattr(self.processor, "chat_template", None):
            prompt = _PROMPTS[detail] + (_PRIVACY if settings.privacy else "")
            text = self._chat_caption(frames, prompt, _TOKENS[detail])
        else:
            text = self._prefix_captions(frames, _TOKENS[detail] // len(frames))
        text = " ".join(text.split()) or "A video."
        return Caption(
            text=scrub_identity(text) if settings.privacy else text, facts=analysis.facts
        )
