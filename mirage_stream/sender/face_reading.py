"""One frame of the face nearest the camera, read from MediaPipe's face mesh: where the head
points, how open the mouth and eyes are, whether the mouth corners rise and whether a frame of
glasses crosses the nose.

Every measure is a ratio of distances on the mesh (or of pixel steps where it places them), so
it does not depend on how large the face is in the frame. ``person_look.py`` turns a segment's
readings into the caption's claims.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from mirage_stream.sender.face_mesh import FaceMesh
from mirage_stream.types import FrameArray

# MediaPipe face-mesh indices (the canonical 468-point topology).
_FOREHEAD_TOP, _CHIN = 10, 152
_CHEEK_LEFT, _CHEEK_RIGHT = 234, 454  # the face's outline at the ears, image left and right
_NOSE_TIP = 1
_BRIDGE = 168  # between the eyes, where a glasses bridge sits
_LIP_UPPER_INNER, _LIP_LOWER_INNER = 13, 14
_MOUTH_LEFT, _MOUTH_RIGHT = 61, 291
_EYE_LEFT = (33, 133, 159, 145)  # outer corner, inner corner, upper lid, lower lid
_EYE_RIGHT = (263, 362, 386, 374)


@dataclass(frozen=True)
class FaceReading:
    """What one frame shows of the face.

    ``turn``: the nose's offset from the middle of the face, in half face widths (negative:
    towards the frame's left). ``tilt``: the nose tip between the eye line (0) and the chin
    (1). ``mouth_open``: the inner lips' gap over the face's height. ``corner_lift``: how far
    the mouth corners sit above the middle of the lips, over the face's height. ``eyes_open``:
    the lids' gap over the eyes' width. ``bridge_edge``: the strongest horizontal edge on the
    nose bridge, against the skin's own contrast there.
    """

    turn: float
    tilt: float
    mouth_open: float
    corner_lift: float
    eyes_open: float
    bridge_edge: float


def _distance(points: npt.NDArray[np.float32], a: int, b: int) -> float:
    return float(np.linalg.norm(points[a] - points[b]))


def _bridge_edge(frame: FrameArray, points: npt.NDArray[np.float32], face_height: float) -> float:
    """The strongest row-to-row brightness step in a strip down the nose bridge (a glasses
    bridge is a dark bar across it), over the median step in the same strip (skin's texture).
    """
    x, y = points[_BRIDGE]
    half_width = max(2.0, 0.04 * face_height)
    top, bottom = y - 0.08 * face_height, y + 0.06 * face_height
    x0, x1 = round(float(x - half_width)), round(float(x + half_width)) + 1
    y0, y1 = round(float(top)), round(float(bottom)) + 1
    height, width = frame.shape[:2]
    if x0 < 0 or y0 < 0 or x1 > width or y1 > height or y1 - y0 < 4:
        return 0.0
    grey = cv2.cvtColor(np.ascontiguousarray(frame[y0:y1, x0:x1]), cv2.COLOR_RGB2GRAY)
    rows = grey.astype(np.float32).mean(axis=1)
    steps = np.abs(np.diff(rows))
    return float(steps.max() / (np.median(steps) + 1.0))


def read_face(frame: FrameArray, mesh: FaceMesh) -> FaceReading:
    """The measures of one frame's face (see ``FaceReading``)."""
    points = mesh.points
    face_height = max(_distance(points, _FOREHEAD_TOP, _CHIN), 1.0)
    # The face's own axes: across from cheek to cheek, down at right angles to it, so that a
    # head leaning on a shoulder (roll) reads as neither turned nor tilted.
    cheek_left, cheek_right = points[_CHEEK_LEFT], points[_CHEEK_RIGHT]
    middle = (cheek_left + cheek_right) / 2
    span = cheek_right - cheek_left
    half_width = max(float(np.linalg.norm(span)) / 2, 1.0)
    across = span / (2 * half_width)
    down = np.array([-across[1], across[0]])

    def height_of(index: int) -> float:
        return float(np.dot(points[index] - middle, down))

    eyes = float(np.mean([height_of(i) for i in (*_EYE_LEFT[:2], *_EYE_RIGHT[:2])]))
    tilt = (height_of(_NOSE_TIP) - eyes) / max(height_of(_CHIN) - eyes, 1.0)
    lips_middle = (height_of(_LIP_UPPER_INNER) + height_of(_LIP_LOWER_INNER)) / 2
    corners = (height_of(_MOUTH_LEFT) + height_of(_MOUTH_RIGHT)) / 2
    eye_gaps = sum(
        _distance(points, upper, lower) for _, _, upper, lower in (_EYE_LEFT, _EYE_RIGHT)
    )
    eye_widths = sum(
        _distance(points, outer, inner) for outer, inner, _, _ in (_EYE_LEFT, _EYE_RIGHT)
    )
    return FaceReading(
        turn=float(np.dot(points[_NOSE_TIP] - middle, across)) / half_width,
        tilt=tilt,
        mouth_open=_distance(points, _LIP_UPPER_INNER, _LIP_LOWER_INNER) / face_height,
        corner_lift=(lips_middle - corners) / face_height,
        eyes_open=eye_gaps / max(eye_widths, 1.0),
        bridge_edge=_bridge_edge(frame, points, face_height),
    )
