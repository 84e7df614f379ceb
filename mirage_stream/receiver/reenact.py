"""Reenactment: every output frame is the caller's reference picture warped so that its face
takes the pose and expression the face track gives for that frame.

The warp is piecewise affine on a triangulation of the reference: the 468 face landmarks
(``portrait.shape``), a ring around the head that moves rigidly with it (hair, ears, neck:
the 2-D similarity that best carries the face's landmarks), and an outer ring with the frame's
corners that stay put, so the scene behind the person does not bend when the head turns; only
the band between the two rings stretches. Triangles are drawn far to near by their depth in
the posed 3-D face, so a turning head hides its far side instead of folding over it. An open
mouth that the reference does not show is painted: the cavity dark, a band of teeth under the
upper lip, in the face's own light (a simple stage, named for what it is: no learned
inpainting ships here).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from scipy.spatial import Delaunay

from mirage_stream.portrait.reference import HeldReference
from mirage_stream.portrait.shape import FaceShapeModel, similarity
from mirage_stream.portrait.track import FaceTrack, sample_from_values, track_parameters
from mirage_stream.types import FrameArray

# MediaPipe face-mesh indices: the inner lip contour (upper lip left to right, then the lower
# lip back), the lips' inner middle, the outer eye corners.
UPPER_INNER_LIP = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LIPS = (*UPPER_INNER_LIP, 324, 318, 402, 317, 14, 87, 178, 88, 95)
UPPER_LIP, LOWER_LIP = 13, 14
EYE_CORNERS = (33, 263)
_RING_POINTS = 24
HEAD_RING = (1.5, 1.7)  # the rigid ring, times the face's half width and half height
SCENE_RING = 2.4  # the still ring
_MOUTH_SHOWN = 0.03  # opening (eye distances) beyond the reference's that gets painted
_MOUTH_FULL = 0.12  # ... and at which the painting is opaque
_FIXED_DEPTH = np.inf  # rings and corners: drawn first, behind the face


@dataclass(frozen=True)
class ReferenceRig:
    """A held reference made ready to warp at one output size."""

    image: FrameArray  # at the output size
    points: npt.NDArray[np.float32]  # every vertex at the reference: mesh, head ring, scene ring
    triangles: npt.NDArray[np.int32]  # T x 3 vertex indices
    mesh_count: int
    ring_count: int
    eye_distance: float
    mouth_open: float  # the reference's inner-lip gap in eye distances
    head_mask: npt.NDArray[np.float32]  # soft 1 over the head ring at the reference, else 0


def _ellipse(
    centre: npt.NDArray[np.float32], half: npt.NDArray[np.float32], scale: tuple[float, float]
) -> npt.NDArray[np.float32]:
    angles = np.linspace(0, 2 * np.pi, _RING_POINTS, endpoint=False)
    ring = np.stack([np.cos(angles) * half[0] * scale[0], np.sin(angles) * half[1] * scale[1]], 1)
    return (ring + centre).astype(np.float32)


def rig_reference(
    held: HeldReference, model: FaceShapeModel, width: int, height: int
) -> ReferenceRig:
    image = held.image
    if image.shape[:2] != (height, width):
        image = np.asarray(
            cv2.resize(image, (width, height), interpolation=cv2.INTER_CUBIC), np.uint8
        )
    mesh = model.posed(held.picture.face, width, height)[:, :2]
    low, high = mesh.min(axis=0), mesh.max(axis=0)
    centre, half = (low + high) / 2, (high - low) / 2
    head = _ellipse(centre, half, HEAD_RING)
    scene = _ellipse(centre, half, (SCENE_RING, SCENE_RING))
    corners = np.array(
        [
            [-1, -1],
            [width, -1],
            [width, height],
            [-1, height],
            [width / 2, -1],
            [width, height / 2],
            [width / 2, height],
            [-1, height / 2],
        ],
        np.float32,
    )
    points = np.concatenate([mesh, head, scene, corners]).astype(np.float32)
    triangles = Delaunay(points.astype(np.float64)).simplices.astype(np.int32)
    eye = float(np.linalg.norm(mesh[EYE_CORNERS[0]] - mesh[EYE_CORNERS[1]]))
    mask = np.zeros((height, width), np.float32)
    cv2.fillPoly(mask, [np.round(head).astype(np.int32)], 1.0)
    mask = np.asarray(
        cv2.GaussianBlur(mask, (0, 0), max(2.0, 0.15 * float(half.mean()))), np.float32
    )
    return ReferenceRig(
        image=np.ascontiguousarray(image),
        points=points,
        triangles=triangles,
        mesh_count=len(mesh),
        ring_count=len(head),
        eye_distance=max(eye, 1.0),
        mouth_open=float(np.linalg.norm(mesh[UPPER_LIP] - mesh[LOWER_LIP])) / max(eye, 1.0),
        head_mask=mask,
    )


def _affines(
    source: npt.NDArray[np.float64], target: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Per triangle, the 2x3 map from target to source pixels (T x 2 x 3); degenerate
    triangles map to themselves."""
    ones = np.ones((len(target), 1, 3))
    t = np.concatenate([target.transpose(0, 2, 1), ones], axis=1)  # T x 3 x 3
    s = source.transpose(0, 2, 1)  # T x 2 x 3
    det = np.linalg.det(t)
    good = np.abs(det) > 1e-6
    maps = np.zeros((len(target), 2, 3))
    maps[:, 0, 0] = maps[:, 1, 1] = 1.0
    maps[good] = s[good] @ np.linalg.inv(t[good])
    return maps


def warp_frame(
    rig: ReferenceRig, target: npt.NDArray[np.float32], depth: npt.NDArray[np.float32]
) -> FrameArray:
    """The reference warped so that its vertices land on ``target`` (every vertex, reference
    order); ``depth`` per vertex orders the triangles (larger: further)."""
    height, width = rig.image.shape[:2]
    triangles = rig.triangles
    maps = _affines(rig.points[triangles].astype(np.float64), target[triangles].astype(np.float64))
    order = np.argsort(-depth[triangles].max(axis=1), kind="stable")
    index = np.zeros((height, width), np.int32)
    corners = np.round(target[triangles] * 16).astype(np.int32)
    for t in order:
        cv2.fillConvexPoly(index, corners[t], int(t) + 1, lineType=cv2.LINE_8, shift=4)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    identity = np.zeros((1, 2, 3))
    identity[0, 0, 0] = identity[0, 1, 1] = 1.0
    table = np.concatenate([identity, maps]).astype(np.float32)
    chosen = table[index]
    map_x = chosen[..., 0, 0] * xs + chosen[..., 0, 1] * ys + chosen[..., 0, 2]
    map_y = chosen[..., 1, 0] * xs + chosen[..., 1, 1] * ys + chosen[..., 1, 2]
    warped = cv2.remap(rig.image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return np.asarray(warped, np.uint8)


def _paint_mouth(frame: FrameArray, rig: ReferenceRig, mesh: npt.NDArray[np.float32]) -> None:
    """Dark cavity and a teeth band inside the inner lips, where the mouth opens wider than
    it does in the reference."""
    eye = float(np.linalg.norm(mesh[EYE_CORNERS[0]] - mesh[EYE_CORNERS[1]])) or 1.0
    gap = float(np.linalg.norm(mesh[UPPER_LIP] - mesh[LOWER_LIP]))
    excess = gap / eye - rig.mouth_open - _MOUTH_SHOWN
    if excess <= 0:
        return
    strength = min(1.0, excess / (_MOUTH_FULL - _MOUTH_SHOWN))
    lips = np.round(mesh[list(INNER_LIPS)] * 4).astype(np.int32)
    height, width = frame.shape[:2]
    mask = np.zeros((height, width), np.float32)
    cv2.fillPoly(mask, [lips], 1.0, lineType=cv2.LINE_AA, shift=2)
    if not mask.any():
        return
    light = float(frame[mask > 0.5].mean()) / 255 if (mask > 0.5).any() else 0.5
    painted = np.empty_like(frame, dtype=np.float32)
    painted[:] = np.array([70, 30, 30], np.float32) * (0.5 + light)
    # Teeth: a band under the upper lip, a third of the opening deep.
    upper = mesh[list(UPPER_INNER_LIP)]
    lowered = upper + np.array([0, gap / 3], np.float32)
    outline = np.concatenate([upper, lowered[::-1]])
    band = np.zeros_like(mask)
    cv2.fillPoly(band, [np.round(outline * 4).astype(np.int32)], 1.0, cv2.LINE_AA, shift=2)
    teeth = np.array([215, 205, 190], np.float32) * min(1.0, 0.6 + light)
    painted = painted * (1 - band[..., None]) + teeth * band[..., None]
    alpha = cv2.GaussianBlur(mask, (0, 0), max(0.6, 0.04 * eye))[..., None] * strength
    frame[:] = np.clip(frame * (1 - alpha) + painted * alpha, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Reenacted:
    frames: npt.NDArray[np.uint8]  # F x H x W x 3
    known: npt.NDArray[np.bool_]  # per frame: whether the track knew the face there


def reenact(
    rig: ReferenceRig, track: FaceTrack, num_frames: int, model: FaceShapeModel
) -> Reenacted:
    """The reference moved frame by frame as ``track`` says."""
    height, width = rig.image.shape[:2]
    values, known = track_parameters(track, num_frames)
    reference_mesh = rig.points[: rig.mesh_count]
    head_at_reference = rig.points[rig.mesh_count : rig.mesh_count + rig.ring_count]
    fixed = rig.points[rig.mesh_count + rig.ring_count :]
    frames = np.empty((num_frames, height, width, 3), np.uint8)
    depth = np.full(len(rig.points), _FIXED_DEPTH, np.float32)
    for f in range(num_frames):
        if not known[f]:
            frames[f] = rig.image
            continue
        posed = model.posed(sample_from_values(values[f]), width, height)
        mesh = posed[:, :2]
        scale, rotation, shift = _similarity_2d(reference_mesh, mesh)
        head = (scale * head_at_reference @ rotation.T + shift).astype(np.float32)
        target = np.concatenate([mesh, head, fixed]).astype(np.float32)
        depth[: rig.mesh_count] = posed[:, 2]
        frames[f] = warp_frame(rig, target, depth)
        _paint_mouth(frames[f], rig, mesh)
    return Reenacted(frames, known)


def _similarity_2d(
    source: npt.NDArray[np.float32], target: npt.NDArray[np.float32]
) -> tuple[float, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    pad = np.zeros((len(source), 1), np.float32)
    scale, rotation, shift = similarity(np.hstack([source, pad]), np.hstack([target, pad]))
    return scale, rotation[:2, :2], shift[:2]
