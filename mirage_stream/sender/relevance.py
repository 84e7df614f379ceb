"""CLIP relevance of candidate keyframes to the caption (the c_t term of eq. 4).

Loaded from a local folder or a cached hub id like the VLM captioner; no CLIP weights ship
with the project, so the selector runs without this term unless ``--clip-model`` is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mirage_stream.errors import InputError
from mirage_stream.hub import load_processor_and_model
from mirage_stream.types import FrameArray


@dataclass
class ClipRelevance:
    """Scores frames by CLIP image-text similarity to the caption, spread to [0, 1] across the
    candidates (CLIP similarities sit in a narrow band; only their order matters here)."""

    model: Any
    processor: Any

    @classmethod
    def from_pretrained(cls, path_or_id: str, *, allow_download: bool = False) -> ClipRelevance:
        from transformers import AutoModel

        processor, model = load_processor_and_model(
            path_or_id, AutoModel, "--clip-model", "a CLIP model", allow_download
        )
        if not hasattr(model, "get_image_features"):
            raise InputError(f"--clip-model: {path_or_id!r} is not a CLIP-style model")
        return cls(model=model.eval(), processor=processor)

    def __call__(self, images: Sequence[FrameArray], caption: str) -> list[float]:
        import torch

        if not images or not caption.strip():
            return [0.0] * len(images)
        # Captions run longer than CLIP's text window: keep their start (content, motion).
        window = int(self.model.config.text_config.max_position_embeddings)
        inputs = self.processor(
            text=[caption],
            images=list(images),
            return_tensors="pt",
            padding=True,
            truncation=True,
            max_length=window,
        )
        with torch.inference_mode():
            similarity = self.model(**inputs).logits_per_image[:, 0].float()
        low, high = float(similarity.min()), float(similarity.max())
        if high - low < 1e-9:
            return [0.0] * len(images)
        return [float(value) for value in (similarity - low) / (high - low)]
