"""Is the person still there? The share of generated frames in which the face detector (the
sender's Haar cascade) finds a face, over segments whose source shows one."""

from __future__ import annotations

from mirage_stream.sender.detectors import detect_faces
from mirage_stream.types import FacesFound, FrameArray

SAMPLE_EVERY = 4  # frames: a face does not come and go faster, and detection costs ~5 ms


def faces_found(
    source: FrameArray, generated: FrameArray, every: int = SAMPLE_EVERY
) -> FacesFound | None:
    """Faces found in the sampled generated frames; None when the source shows no face in at
    least half of the same samples (then there is nothing to find)."""
    picks = range(0, min(len(source), len(generated)), every)
    width = source.shape[2]
    shown = sum(1 for t in picks if detect_faces(source[t], work_width=width))
    if 2 * shown < len(picks) or not picks:
        return None
    found = sum(1 for t in picks if detect_faces(generated[t], work_width=width))
    return FacesFound(found=found, sampled=len(picks))
