"""Offline style, lighting and identity treatments of a keyframe (the offline generator's share
of eq. 16). Each runs once per keyframe, not per frame, so it costs little per segment."""

from __future__ import annotations

import cv2
import numpy as np

from mirage_stream.anonymise import pixelate_region
from mirage_stream.receiver.profile import IdentityMode, Lighting, StylePreset
from mirage_stream.types import FaceFact, FrameArray


def cinematic(image: FrameArray) -> FrameArray:
    """Teal shadows, orange highlights, a gentle S-curve and a vignette."""
    rgb = image.astype(np.float32) / 255.0
    luma = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    curve = 0.5 + (luma - 0.5) * 1.15  # contrast
    highlights = np.clip(curve, 0, 1)[..., None]
    teal, orange = np.array([0.0, 0.5, 0.55]), np.array([1.0, 0.6, 0.3])
    tint = (1 - highlights) * teal + highlights * orange
    graded = np.clip(0.82 * rgb + 0.18 * tint, 0, 1)
    height, width = luma.shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    radius = np.hypot((xs - width / 2) / width, (ys - height / 2) / height)
    graded *= (1.0 - 0.6 * np.clip(radius - 0.3, 0, 1))[..., None]
    return np.asarray(graded * 255, dtype=np.uint8)


def animation(image: FrameArray) -> FrameArray:
    """Cel look: edge-preserving smoothing, colours quantised to a few levels, dark outlines."""
    smooth = np.asarray(cv2.bilateralFilter(image, 7, 60, 7), dtype=np.uint8)
    smooth = np.asarray(cv2.bilateralFilter(smooth, 7, 60, 7), dtype=np.uint8)
    levels = 6
    flat = (np.round(smooth.astype(np.float32) / 255 * (levels - 1)) * (255 / (levels - 1))).astype(
        np.uint8
    )
    hsv = cv2.cvtColor(flat, cv2.COLOR_RGB2HSV).astype(np.float32)
    hsv[..., 1] = np.clip(hsv[..., 1] * 1.3, 0, 255)
    vivid = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB)
    gray = cv2.medianBlur(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), 5)
    edges = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 4)
    return np.asarray(cv2.bitwise_and(vivid, vivid, mask=edges), dtype=np.uint8)


def oil_painting(image: FrameArray) -> FrameArray:
    """OpenCV's edge-preserving stylisation, then a little directional texture."""
    painted = cv2.stylization(image, sigma_s=40, sigma_r=0.35)
    kernel = np.zeros((5, 5), np.float32)
    np.fill_diagonal(kernel, 1.0 / 5)
    strokes = cv2.filter2D(painted, -1, kernel)
    return np.asarray(cv2.addWeighted(painted, 0.7, strokes, 0.3, 0), dtype=np.uint8)


STYLES = {
    StylePreset.NONE: lambda image: image,
    StylePreset.CINEMATIC: cinematic,
    StylePreset.ANIMATION: animation,
    StylePreset.OIL_PAINTING: oil_painting,
}

# Lab shifts: (lightness, a: green-red, b: blue-yellow), in 8-bit Lab units.
_LIGHTING_SHIFT = {
    Lighting.NATURAL: (0, 0, 0),
    Lighting.WARM: (4, 6, 14),
    Lighting.COOL: (0, -4, -14),
    Lighting.BRIGHT: (22, 0, 0),
    Lighting.DIM: (-30, 0, 0),
}


def relight(image: FrameArray, lighting: Lighting) -> FrameArray:
    shift = _LIGHTING_SHIFT[lighting]
    if shift == (0, 0, 0):
        return image
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.int16) + np.array(shift, np.int16)
    return np.asarray(cv2.cvtColor(np.clip(lab, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB))


def anonymise_faces(
    image: FrameArray, faces: tuple[FaceFact, ...], margin: float = 0.25
) -> FrameArray:
    """Pixelate and blur the face boxes the sender reported (fractions of the frame)."""
    if not faces:
        return image
    out = image.copy()
    height, width = image.shape[:2]
    for face in faces:
        x0 = max(0, int((face.x - margin * face.width) * width))
        y0 = max(0, int((face.y - margin * face.height) * height))
        x1 = min(width, int((face.x + (1 + margin) * face.width) * width))
        y1 = min(height, int((face.y + (1 + margin) * face.height) * height))
        pixelate_region(out, x0, y0, x1, y1)
    return out


def treat_keyframe(
    image: FrameArray,
    style: StylePreset,
    lighting: Lighting,
    identity: IdentityMode,
    faces: tuple[FaceFact, ...],
) -> FrameArray:
    """Identity first (so that a style cannot bring a face back), then style, then light."""
    if identity is not IdentityMode.KEEP:
        image = anonymise_faces(image, faces)
    return relight(np.ascontiguousarray(STYLES[style](image)), lighting)
