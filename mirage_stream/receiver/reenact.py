"""Reenactment: every output frame is the caller's reference picture moved so that its face
takes the pose and expression the face track gives for that frame.

Two layers. The head and scene: a piecewise-affine warp on a ring around the head, which moves
rigidly with the face (the 2-D similarity that best carries its landmarks: hair, ears and neck
go with the head), an outer ring and the frame's corners, which stay put; inside the head ring
the picture moves whole, outside the outer ring nothing moves, and only the band between them
stretches, so the scene behind the person does not bend. The face: a piecewise-affine warp on a
triangulation of the 468 face landmarks (``portrait.shape``), drawn far to near by their depth
in the posed 3-D face; a triangle that turned its back (the far side of a turning head) is not
drawn, and the face fades out softly where it ends, so its edge shows no teeth. An open mouth
that the reference does not show is painted: the cavity dark, a band of teeth under the upper
lip, in the face's own light (a simple stage, named for what it is: no learned inpainting ships
here).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from scipy.spatial import Delaunay

from mirage_stream.portrait.reference import HeldReference
from mirage_stream.portrait.shape import FaceSample, FaceShapeModel, HeadPose
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
_FACE_EDGE = 0.03  # the face layer fades out over this share of the face's size
_MAP_STEP = 2  # the backward map is computed every this many pixels
# ... and the head and scene's, whose triangles are large and few: coarser costs a quarter.
_SCENE_MAP_STEP = 4
# How far a face is turned from the reference's pose at most: a frontal picture turned
# further (a profile) tears at the far cheek, so it turns this far and no further.
MAX_YAW = np.radians(35.0)
MAX_PITCH = np.radians(25.0)

Points = npt.NDArray[np.float32]


@dataclass(frozen=True)
class ReferenceRig:
    """A held reference made ready to warp at one output size."""

    image: FrameArray  # at the output size
    mesh: Points  # 468 x 2, the face's landmarks in the reference
    face_triangles: npt.NDArray[np.int32]  # T x 3 landmark indices
    scene: Points  # head ring, outer ring, frame corners, in the reference
    scene_triangles: npt.NDArray[np.int32]
    ring_count: int  # the head ring's points, first in ``scene``
    pose: HeadPose  # the face's pose in the reference
    face_size: float  # pixels
    mouth_open: float  # the reference's inner-lip gap in eye distances
    head_mask: npt.NDArray[np.float32]  # soft 1 inside the head ring at the reference


def _ellipse(centre: Points, half: Points, scale: tuple[float, float]) -> Points:
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
    corners = np.array(
        [[x, y] for x in (-1, width / 2, width) for y in (-1, height / 2, height)], np.float32
    )
    scene = np.concatenate(
        [_ellipse(centre, half, HEAD_RING), _ellipse(centre, half, (SCENE_RING,) * 2), corners]
    )
    eye = max(float(np.linalg.norm(mesh[EYE_CORNERS[0]] - mesh[EYE_CORNERS[1]])), 1.0)
    triangulation = Delaunay(mesh.astype(np.float64))
    mask = np.zeros((height, width), np.float32)
    cv2.fillPoly(mask, [np.round(scene[:_RING_POINTS]).astype(np.int32)], 1.0)
    mask = np.asarray(cv2.GaussianBlur(mask, (0, 0), max(2.0, 0.1 * float(half.mean()))))
    return ReferenceRig(
        image=np.ascontiguousarray(image),
        mesh=mesh.astype(np.float32),
        face_triangles=triangulation.simplices.astype(np.int32),
        scene=scene.astype(np.float32),
        scene_triangles=Delaunay(scene.astype(np.float64)).simplices.astype(np.int32),
        ring_count=_RING_POINTS,
        pose=held.picture.face.pose,
        face_size=float((high - low).max()),
        mouth_open=float(np.linalg.norm(mesh[UPPER_LIP] - mesh[LOWER_LIP])) / eye,
        head_mask=mask.astype(np.float32),
    )


def _affines(
    source: npt.NDArray[np.float64], target: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Per triangle, the 2x3 map from target to source pixels (T x 2 x 3); degenerate
    triangles map to themselves. Solved in closed form (Cramer's rule on the three corners),
    a batch of 3x3 inverses costing more than the whole warp."""
    t0, t1, t2 = target[:, 0], target[:, 1], target[:, 2]
    e1, e2 = t1 - t0, t2 - t0
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    good = np.abs(det) > 1e-6
    safe = np.where(good, det, 1.0)
    # The inverse of [e1 e2] (columns), applied to (x - t0): barycentric weights of t1, t2.
    inverse = np.stack([np.stack([e2[:, 1], -e2[:, 0]], 1), np.stack([-e1[:, 1], e1[:, 0]], 1)], 1)
    inverse /= safe[:, None, None]
    d1, d2 = source[:, 1] - source[:, 0], source[:, 2] - source[:, 0]
    linear = np.stack([d1, d2], 2) @ inverse  # T x 2 x 2: source offset per target offset
    offset = source[:, 0] - np.einsum("tij,tj->ti", linear, t0)
    maps = np.concatenate([linear, offset[:, :, None]], axis=2)
    maps[~good] = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    return maps


def _signed_areas(corners: Points) -> Points:
    a, b, c = corners[:, 0], corners[:, 1], corners[:, 2]
    cross = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    return np.asarray(cross, np.float32)


@dataclass(frozen=True)
class BackwardMap:
    """Where each pixel of a box of the output frame samples the reference."""

    rows: slice
    columns: slice
    map_x: npt.NDArray[np.float32]
    map_y: npt.NDArray[np.float32]
    inside: npt.NDArray[np.bool_]  # a triangle covers the pixel

    def fixed_point(self) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
        """The map in OpenCV's fixed-point form: remapping with it costs half, and one
        conversion serves every image warped the same way."""
        first, second = cv2.convertMaps(self.map_x, self.map_y, cv2.CV_16SC2)
        return first, second

    def remap_box(
        self, image: npt.NDArray[Any], maps: tuple[npt.NDArray[Any], npt.NDArray[Any]] | None = None
    ) -> npt.NDArray[Any]:
        """The box of the output frame, warped from ``image``."""
        first, second = maps if maps is not None else (self.map_x, self.map_y)
        return cv2.remap(image, first, second, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)

    def remap(self, image: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """``image`` with this box warped (the rest as it was)."""
        warped = image.copy()
        warped[self.rows, self.columns] = self.remap_box(image)
        return warped


def backward_map(
    shape: tuple[int, ...],
    source: Points,
    target: Points,
    order: npt.NDArray[np.intp],
    step: int = _MAP_STEP,
) -> BackwardMap:
    """The piecewise-affine map that carries ``source`` triangles onto ``target`` ones (T x 3
    x 2 each), the triangles listed in ``order`` drawn one over the other, over the targets'
    box only. Computed on a grid of every ``step``-th pixel and enlarged bilinearly: the
    map is piecewise linear and continuous, so the grid loses little and costs a quarter."""
    height, width = shape[:2]
    maps = _affines(source.astype(np.float64), target.astype(np.float64))
    low = np.floor(np.clip(target.reshape(-1, 2).min(axis=0) - 1, 0, None)).astype(int)
    high = np.ceil(np.minimum(target.reshape(-1, 2).max(axis=0) + 1, [width - 1, height - 1]))
    box_w, box_h = max(1, int(high[0]) - low[0] + 1), max(1, int(high[1]) - low[1] + 1)
    grid_w, grid_h = -(-box_w // step), -(-box_h // step)
    index = np.zeros((grid_h, grid_w), np.int32)
    # Grid cell (i, j) stands for the box pixels' centre (step j + (step - 1) / 2, ...), as
    # cv2.resize places it.
    corners = np.round((target - low - (step - 1) / 2) / step * 16).astype(np.int32)
    # ~900 face triangles a frame: the loop holds nothing but the call.
    fill = cv2.fillConvexPoly
    for polygon, value in zip(list(corners[order]), (order + 1).tolist(), strict=True):
        fill(index, polygon, value, cv2.LINE_8, 4)
    ys, xs = np.mgrid[0:grid_h, 0:grid_w].astype(np.float32) * step + (step - 1) / 2
    xs += low[0]
    ys += low[1]
    identity = np.zeros((1, 2, 3))
    identity[0, 0, 0] = identity[0, 1, 1] = 1.0
    table = np.concatenate([identity, maps]).astype(np.float32).reshape(-1, 6)
    coefficients = table[index]  # grid_h x grid_w x 6, one gather
    grid_x = coefficients[..., 0] * xs + coefficients[..., 1] * ys + coefficients[..., 2]
    grid_y = coefficients[..., 3] * xs + coefficients[..., 4] * ys + coefficients[..., 5]
    full = (grid_w * step, grid_h * step)
    inside = cv2.resize((index > 0).astype(np.uint8), full, interpolation=cv2.INTER_NEAREST)
    return BackwardMap(
        rows=slice(low[1], low[1] + box_h),
        columns=slice(low[0], low[0] + box_w),
        map_x=cv2.resize(grid_x, full, interpolation=cv2.INTER_LINEAR)[:box_h, :box_w],
        map_y=cv2.resize(grid_y, full, interpolation=cv2.INTER_LINEAR)[:box_h, :box_w],
        inside=inside[:box_h, :box_w] > 0,
    )


def head_and_scene(rig: ReferenceRig, pose: HeadPose, scene: FrameArray) -> FrameArray:
    """The reference's head moved rigidly as from ``rig.pose`` to ``pose`` (scaled as the
    head's distance changed, turned by the change of roll, moved with the head's centre: not
    fitted to the landmarks' outline, which narrows as the head turns aside), over ``scene``:
    the background, which stays put outside the outer ring and stretches in the band."""
    height, width = rig.image.shape[:2]
    before = rig.pose
    scale = pose.scale / before.scale
    angle = pose.roll - before.roll
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    centre_before = np.array([before.x * width, before.y * height])
    shift = np.array([pose.x * width, pose.y * height]) - scale * rotation @ centre_before
    target = rig.scene.copy()
    ring = rig.scene[: rig.ring_count]
    target[: rig.ring_count] = (scale * ring @ rotation.T + shift).astype(np.float32)
    # Triangles with no head-ring corner stay put: the map is drawn over the others' box only
    # (outside it every pixel maps to itself).
    triangles = rig.scene_triangles[(rig.scene_triangles < rig.ring_count).any(axis=1)]
    warp = backward_map(
        rig.image.shape,
        rig.scene[triangles],
        target[triangles],
        np.arange(len(triangles)),
        step=_SCENE_MAP_STEP,
    )
    maps = warp.fixed_point()
    box = warp.rows, warp.columns
    head = warp.remap_box(rig.image, maps)
    out = (rig.image if scene is rig.image else scene).copy()
    if scene is rig.image:
        out[box] = head
        return out
    alpha = np.ascontiguousarray(warp.remap_box(rig.head_mask, maps))
    out[box] = cv2.blendLinear(head, warp.remap_box(scene, maps), alpha, 1.0 - alpha)
    return out


def face_layer(
    rig: ReferenceRig, mesh: Points, depth: Points
) -> tuple[FrameArray, npt.NDArray[np.bool_]]:
    """The reference's face warped so that its landmarks land on ``mesh``, far triangles
    first; a triangle that turned its back goes under every other (it still fills the thin
    gaps a turning face opens between its far-side triangles); and where it covers the
    frame."""
    triangles = rig.face_triangles
    source, target = rig.mesh[triangles], mesh[triangles]
    turned = np.sign(_signed_areas(source)) != np.sign(_signed_areas(target))
    far = np.where(turned, np.inf, depth[triangles].mean(axis=1))
    warp = backward_map(rig.image.shape, source, target, np.argsort(-far, kind="stable"))
    covered = np.zeros(rig.image.shape[:2], bool)
    covered[warp.rows, warp.columns] = warp.inside
    return warp.remap(rig.image), covered


def _paint_mouth(frame: FrameArray, rig: ReferenceRig, mesh: Points) -> None:
    """Dark cavity and a teeth band inside the inner lips, where the mouth opens wider than
    it does in the reference."""
    eye = float(np.linalg.norm(mesh[EYE_CORNERS[0]] - mesh[EYE_CORNERS[1]])) or 1.0
    gap = float(np.linalg.norm(mesh[UPPER_LIP] - mesh[LOWER_LIP]))
    excess = gap / eye - rig.mouth_open - _MOUTH_SHOWN
    if excess <= 0:
        return
    strength = min(1.0, excess / (_MOUTH_FULL - _MOUTH_SHOWN))
    lips = mesh[list(INNER_LIPS)]
    blur = max(0.6, 0.04 * eye)
    rows, columns = _box(lips, 3 * blur + 1, frame.shape[1], frame.shape[0])
    origin = np.array([columns.start, rows.start], np.float32)
    patch = frame[rows, columns]
    mask = np.zeros(patch.shape[:2], np.float32)
    cv2.fillPoly(mask, [np.round((lips - origin) * 4).astype(np.int32)], 1.0, cv2.LINE_AA, 2)
    if not (mask > 0.5).any():
        return
    light = float(patch[mask > 0.5].mean()) / 255
    painted = np.empty(patch.shape, np.float32)
    painted[:] = np.array([70, 30, 30], np.float32) * (0.5 + light)
    # Teeth: a band under the upper lip, a fifth of the opening deep.
    upper = mesh[list(UPPER_INNER_LIP)] - origin
    lowered = upper + np.array([0, gap / 5], np.float32)
    outline = np.concatenate([upper, lowered[::-1]])
    band = np.zeros_like(mask)
    cv2.fillPoly(band, [np.round(outline * 4).astype(np.int32)], 1.0, cv2.LINE_AA, shift=2)
    teeth = np.array([190, 180, 170], np.float32) * min(1.0, 0.4 + light)
    painted = painted * (1 - band[..., None]) + teeth * band[..., None]
    # Softened inwards only: painted past the lips, the mouth would look wider open than it is.
    alpha = (cv2.GaussianBlur(mask, (0, 0), blur) * mask)[..., None] * strength
    frame[rows, columns] = np.clip(patch * (1 - alpha) + painted * alpha, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Reenacted:
    frames: npt.NDArray[np.uint8]  # F x H x W x 3
    known: npt.NDArray[np.bool_]  # per frame: whether the track knew the face there


def reenact(
    rig: ReferenceRig,
    track: FaceTrack,
    num_frames: int,
    model: FaceShapeModel,
    scene: FrameArray | None = None,
) -> Reenacted:
    """The reference moved frame by frame as ``track`` says, over ``scene`` (the background
    as it is now; the reference's own when None)."""
    scene = rig.image if scene is None else scene
    height, width = rig.image.shape[:2]
    values, known = track_parameters(track, num_frames)
    frames = np.empty((num_frames, height, width, 3), np.uint8)

    for f in range(num_frames):
        if known[f]:
            sample = _within_reach(sample_from_values(values[f]), rig.pose)
            frames[f] = _frame(rig, sample, model, scene)
        else:
            frames[f] = scene
    return Reenacted(frames, known)


def _frame(
    rig: ReferenceRig, sample: FaceSample, model: FaceShapeModel, scene: FrameArray
) -> FrameArray:
    height, width = rig.image.shape[:2]
    edge = max(0.6, _FACE_EDGE * rig.face_size)
    posed = model.posed(sample, width, height)
    mesh = np.ascontiguousarray(posed[:, :2])
    back = head_and_scene(rig, sample.pose, scene)
    face, covered = face_layer(rig, mesh, posed[:, 2])
    box = _box(mesh, 3 * edge, width, height)
    inside = cv2.erode(covered[box].astype(np.uint8), np.ones((3, 3), np.uint8))
    alpha = cv2.GaussianBlur(inside.astype(np.float32), (0, 0), edge) * covered[box]
    back[box] = cv2.blendLinear(
        np.ascontiguousarray(face[box]), np.ascontiguousarray(back[box]), alpha, 1.0 - alpha
    )
    _paint_mouth(back, rig, mesh)
    return back


def _box(points: Points, margin: float, width: int, height: int) -> tuple[slice, slice]:
    """The rows and columns around ``points``, ``margin`` pixels wider, inside the frame."""
    low = np.floor(np.maximum(points.min(axis=0) - margin, 0)).astype(int)
    high = np.ceil(np.minimum(points.max(axis=0) + margin + 1, [width, height])).astype(int)
    return slice(low[1], max(low[1] + 1, high[1])), slice(low[0], max(low[0] + 1, high[0]))


def _within_reach(sample: FaceSample, reference: HeadPose) -> FaceSample:
    pose = sample.pose
    yaw = float(np.clip(pose.yaw, reference.yaw - MAX_YAW, reference.yaw + MAX_YAW))
    pitch = float(np.clip(pose.pitch, reference.pitch - MAX_PITCH, reference.pitch + MAX_PITCH))
    return FaceSample(replace(pose, yaw=yaw, pitch=pitch), sample.expression)
