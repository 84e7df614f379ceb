"""Privacy: hide faces in keyframes before they are encoded, so no face leaves the sender."""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from mirage_stream.anonymise import pixelate_region
from mirage_stream.sender.detectors import Box, detect_faces
from mirage_stream.types import FrameArray


class FacePolicy(enum.Enum):
    KEEP = "keep"
    BLUR = "blur"  # coarse pixelation then blur: shape and colour stay, identity goes
    MASK = "mask"  # a flat patch of the face's mean colour


@dataclass(frozen=True)
class FaceHider:
    """Applies a ``FacePolicy`` to every face found in a keyframe.

    Faces are searched again on the keyframe at full size with a permissive cascade (recall
    matters more than precision here), merged with any boxes the analysis already found, and
    grown by ``margin`` on each side so that hair line and chin go too.
    """

    policy: FacePolicy = FacePolicy.KEEP
    margin: float = 0.25
    blocks: int = 5  # pixelation cells across a face

    def apply(self, image: FrameArray, known: Iterable[Box] = ()) -> FrameArray:
        if self.policy is FacePolicy.KEEP:
            return image
        boxes = [*known, *detect_faces(image, work_width=image.shape[1])]
        if not boxes:
            return image
        hidden = image.copy()
        height, width = image.shape[:2]
        for box in boxes:
            grow_x, grow_y = round(box.width * self.margin), round(box.height * self.margin)
            x0, y0 = max(0, box.x - grow_x), max(0, box.y - grow_y)
            x1 = min(width, box.x + box.width + grow_x)
            y1 = min(height, box.y + box.height + grow_y)
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            if self.policy is FacePolicy.MASK:
                patch = hidden[y0:y1, x0:x1]
                hidden[y0:y1, x0:x1] = patch.reshape(-1, 3).mean(axis=0).astype(np.uint8)
            else:
                pixelate_region(hidden, x0, y0, x1, y1, self.blocks)
        return hidden
