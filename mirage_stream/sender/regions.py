"""Where the keyframe budget is spent beyond the whole frame: the person's face.

A whole-frame keyframe spends one token on about 20x20 working pixels (16x12 tokens over
320x240), so a face 40 pixels wide at the working size gets four tokens and becomes a blur. The
face's own square, coded with the same codec at its full size, keeps it sharp; the receiver
lays it back over the whole frame.
"""

from __future__ import annotations

from collections.abc import Sequence

from mirage_stream.sender.detectors import Box
from mirage_stream.types import Region

# A Haar face box covers brows to mouth; grown by this factor it takes in hair, ears and chin.
FACE_GROWTH = 1.7
MIN_SIDE_PX = 24  # smaller faces are not worth a detail: the whole frame shows them as well


def face_region(
    boxes: Sequence[Box], width: int, height: int, growth: float = FACE_GROWTH
) -> Region | None:
    """A square around the largest face (grown, moved inside the frame), or None."""
    if not boxes:
        return None
    face = max(boxes, key=lambda box: box.width * box.height)
    side = min(round(max(face.width, face.height) * growth), width, height)
    if side < MIN_SIDE_PX:
        return None
    centre_x, centre_y = face.x + face.width / 2, face.y + face.height / 2
    x0 = min(max(0, round(centre_x - side / 2)), width - side)
    y0 = min(max(0, round(centre_y - side / 2)), height - side)
    return Region(x0 / width, y0 / height, side / width, side / height)
