"""The face shape model both ends share: a head pose and a few expression coefficients stand
for the 468 landmarks of MediaPipe's face mesh.

A mesh's 3-D points P (468 x 3, frame pixels, z in the same scale) are explained as a rotated,
scaled and moved canonical shape,

    P ~= s R (M + sum_k c_k B_k) + t,

with M the mean canonical face (centred, unit RMS radius), B_k orthonormal shape modes, R a
rotation (pitch, yaw, roll), s a scale and t a translation. Only x and y are ever drawn (weak
perspective), so the receiver needs s, R, t_xy and c. M and B come from
``tools/fit_face_shape.py`` (generalised Procrustes, then PCA) on the tune talking heads of
``footage/portrait/``, shipped as ``face_shape.npz`` with its SHA-256 checked at load.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import numpy.typing as npt
from scipy.spatial.transform import Rotation

MODEL_FILE = "face_shape.npz"
MODEL_SHA256 = "d88c6c6c4d2ccb2c1f985b4cf77fe552c068738ac86d77424d348d056584e150"
POINTS = 468
Points = npt.NDArray[np.float32]


@dataclass(frozen=True)
class HeadPose:
    """Where the head is: angles in radians (pitch about x, yaw about y, roll about z, in the
    image's axes: x right, y down), ``scale`` in frame widths per canonical unit, ``x`` and
    ``y`` the head's centre in fractions of the frame's width and height."""

    pitch: float
    yaw: float
    roll: float
    scale: float
    x: float
    y: float

    def rotation(self) -> npt.NDArray[np.float64]:
        matrix = Rotation.from_euler("xyz", [self.pitch, self.yaw, self.roll]).as_matrix()
        return np.asarray(matrix, np.float64)


@dataclass(frozen=True)
class FaceSample:
    """One frame of the face: its pose and expression coefficients (c_k above)."""

    pose: HeadPose
    expression: tuple[float, ...]


@dataclass(frozen=True)
class FaceShapeModel:
    mean: Points  # 468 x 3, centred, unit RMS radius
    modes: Points  # K x 468 x 3, orthonormal as vectors
    spread: npt.NDArray[np.float32]  # K: the coefficients' standard deviation when fitted

    @property
    def size(self) -> int:
        return len(self.spread)

    def canonical(self, expression: tuple[float, ...] | npt.NDArray[np.float32]) -> Points:
        """M + sum_k c_k B_k (468 x 3)."""
        coefficients = np.asarray(expression, np.float32)[: self.size]
        shape = self.mean + np.tensordot(coefficients, self.modes[: len(coefficients)], 1)
        return np.asarray(shape, np.float32)

    def fit(self, points3d: Points, width: int, height: int) -> FaceSample:
        """The pose and expression that explain ``points3d`` (frame pixels) best."""
        scale, rotation, shift = similarity(self.mean, points3d)
        canonical = (points3d - shift) @ rotation / scale  # R^T (P - t) / s, row by row
        coefficients = np.tensordot(self.modes, canonical - self.mean, ([1, 2], [0, 1]))
        pitch, yaw, roll = Rotation.from_matrix(rotation).as_euler("xyz")
        return FaceSample(
            HeadPose(
                float(pitch),
                float(yaw),
                float(roll),
                float(scale / width),
                float(shift[0] / width),
                float(shift[1] / height),
            ),
            tuple(float(c) for c in coefficients),
        )

    def posed(self, sample: FaceSample, width: int, height: int) -> Points:
        """The 468 x 3 points of ``sample`` in frame pixels (z: depth, larger is further)."""
        pose = sample.pose
        shape = self.canonical(sample.expression).astype(np.float64)
        placed = pose.scale * width * shape @ pose.rotation().T
        placed[:, 0] += pose.x * width
        placed[:, 1] += pose.y * height
        return placed.astype(np.float32)


def similarity(
    source: Points, target: Points
) -> tuple[float, npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """s, R, t minimising |s R source_i + t - target_i|^2 (Umeyama's closed form; R a proper
    rotation)."""
    source64, target64 = source.astype(np.float64), target.astype(np.float64)
    mu_s, mu_t = source64.mean(axis=0), target64.mean(axis=0)
    a, b = source64 - mu_s, target64 - mu_t
    u, sigma, vt = np.linalg.svd(b.T @ a / len(a))
    sign = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[2, 2] = -1
    rotation = u @ sign @ vt
    scale = float(np.trace(np.diag(sigma) @ sign) / (a**2).sum() * len(a))
    return scale, rotation, mu_t - scale * rotation @ mu_s


@cache
def shipped_shape_model() -> FaceShapeModel:
    """The shipped model, read and checked once."""
    data = resources.files("mirage_stream.portrait").joinpath(MODEL_FILE).read_bytes()
    if hashlib.sha256(data).hexdigest() != MODEL_SHA256:
        raise RuntimeError(f"{MODEL_FILE} does not match its recorded SHA-256: reinstall")
    import io

    with np.load(io.BytesIO(data)) as arrays:
        return FaceShapeModel(
            np.asarray(arrays["mean"], np.float32),
            np.asarray(arrays["modes"], np.float32),
            np.asarray(arrays["spread"], np.float32),
        )
