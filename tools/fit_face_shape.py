"""Fit the face shape model (``mirage_stream/portrait/shape.py``) on the tune talking heads.

Every frame of every tune clip of ``footage/portrait/portrait_set.json`` is brought to the
working size the way a run brings it (centre crop, 320x240), the face mesh is followed through
it, and the meshes are aligned by generalised Procrustes (scale, rotation, translation); the
mean is M and the first K principal directions of what remains are the modes B_k. Writes
``mirage_stream/portrait/face_shape.npz`` and prints its SHA-256 (record it in shape.py) with
the variance each mode explains. The same clips give the same bytes on every run.

    python tools/fit_face_shape.py [--modes 16]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
from pathlib import Path

import av
import numpy as np

from mirage_stream.options import WORKING_HEIGHT, WORKING_WIDTH
from mirage_stream.portrait.shape import similarity
from mirage_stream.sender.face_mesh import FaceFollower, FaceMesh
from mirage_stream.sources.file_source import fit_frame

ROOT = Path(__file__).resolve().parent.parent
SET_FILE = ROOT / "footage" / "portrait" / "portrait_set.json"
OUT = ROOT / "mirage_stream" / "portrait" / "face_shape.npz"


def clip_meshes(path: Path) -> list[np.ndarray]:
    follower = FaceFollower()
    meshes: list[np.ndarray] = []
    previous: FaceMesh | None = None
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            image = fit_frame(frame.to_ndarray(format="rgb24"), WORKING_WIDTH, WORKING_HEIGHT)
            previous = follower.next(image, previous)
            if previous is not None:
                meshes.append(previous.points3d.astype(np.float64))
    return meshes


def normalised(points: np.ndarray) -> np.ndarray:
    centred = points - points.mean(axis=0)
    return centred / np.sqrt((centred**2).sum(axis=1).mean())


def procrustes(meshes: list[np.ndarray], rounds: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """(mean, every mesh in the mean's frame), both centred at unit RMS radius."""
    mean = normalised(meshes[0])
    for _ in range(rounds):
        aligned = []
        for mesh in meshes:
            scale, rotation, shift = similarity(mean.astype(np.float32), mesh.astype(np.float32))
            aligned.append((mesh - shift) @ rotation / scale)
        mean = normalised(np.mean(aligned, axis=0))
    return mean, np.stack(aligned)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", type=int, default=16)
    args = parser.parse_args()
    clips = json.loads(SET_FILE.read_text())["clips"]
    meshes: list[np.ndarray] = []
    for clip in clips:
        if clip["split"] != "tune":
            continue
        found = clip_meshes(ROOT / clip["path"])
        print(f"{clip['name']}: {len(found)} frames with a face")
        meshes += found
    mean, aligned = procrustes(meshes)
    residual = (aligned - mean).reshape(len(aligned), -1)
    _, singular, vt = np.linalg.svd(residual - residual.mean(axis=0), full_matrices=False)
    modes = vt[: args.modes].reshape(args.modes, -1, 3)
    # Signs fixed so the file does not depend on the SVD's arbitrary choice.
    modes *= np.sign(
        modes.reshape(args.modes, -1)[
            :, np.argmax(np.abs(modes.reshape(args.modes, -1)), axis=1)
        ].diagonal()
    )[:, None, None]
    coefficients = residual @ modes.reshape(args.modes, -1).T
    spread = coefficients.std(axis=0)
    explained = singular[: args.modes] ** 2 / (singular**2).sum()
    buffer = io.BytesIO()
    np.savez(
        buffer,
        mean=mean.astype(np.float32),
        modes=modes.astype(np.float32),
        spread=spread.astype(np.float32),
    )
    OUT.write_bytes(buffer.getvalue())
    print("variance explained:", " ".join(f"{e:.3f}" for e in explained))
    print("cumulative:", f"{explained.sum():.4f}", "frames:", len(meshes))
    print("sha256:", hashlib.sha256(buffer.getvalue()).hexdigest())


if __name__ == "__main__":
    main()
