"""Drawings of matches, for the node's debug image, the CLI tools and the evaluation montage."""

from __future__ import annotations

import cv2
import numpy as np

_SHIFT = 4  # sub-pixel drawing: OpenCV coordinates in 1/16 pixel


def _rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image


def confidence_colours(confidence: np.ndarray) -> np.ndarray:
    """(N, 3) uint8 RGB on the turbo colour map: blue for the least confident match, red for the most."""
    confidence = np.asarray(confidence, dtype=np.float32)
    if confidence.size == 0:
        return np.zeros((0, 3), np.uint8)
    scaled = np.clip(confidence / max(float(confidence.max()), 1e-12) * 255, 0, 255).astype(np.uint8)
    return cv2.applyColorMap(scaled[:, None], cv2.COLORMAP_TURBO)[:, 0, ::-1].copy()


def draw_matches(
    image0: np.ndarray,
    image1: np.ndarray,
    keypoints0: np.ndarray,
    keypoints1: np.ndarray,
    confidence: np.ndarray,
    inliers: np.ndarray | None = None,
    max_lines: int = 1000,
) -> np.ndarray:
    """Both images side by side (RGB); one line per match coloured by confidence, outliers in grey.

    Keypoints are pixels of each image ((0, 0) = centre of the top-left pixel); the most confident
    ``max_lines`` matches are drawn, the most confident on top.
    """
    left, right = _rgb(image0), _rgb(image1)
    canvas = np.zeros((max(left.shape[0], right.shape[0]), left.shape[1] + right.shape[1], 3), np.uint8)
    canvas[: left.shape[0], : left.shape[1]] = left
    canvas[: right.shape[0], left.shape[1] :] = right
    confidence = np.asarray(confidence, dtype=np.float32)
    colours = confidence_colours(confidence)
    offset = np.array([left.shape[1], 0], np.float32)
    for i in np.argsort(confidence)[-max_lines:]:
        outlier = inliers is not None and not inliers[i]
        colour = (150, 150, 150) if outlier else tuple(int(v) for v in colours[i])
        a = tuple(int(v) for v in np.round(np.asarray(keypoints0[i], np.float32) * (1 << _SHIFT)))
        b = tuple(int(v) for v in np.round((np.asarray(keypoints1[i], np.float32) + offset) * (1 << _SHIFT)))
        cv2.line(canvas, a, b, colour, 1, cv2.LINE_AA, _SHIFT)
        cv2.circle(canvas, a, 2 << _SHIFT, colour, -1, cv2.LINE_AA, _SHIFT)
        cv2.circle(canvas, b, 2 << _SHIFT, colour, -1, cv2.LINE_AA, _SHIFT)
    return canvas
