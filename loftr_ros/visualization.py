"""Drawings of matches, for the node's debug image and the CLI tools."""

from __future__ import annotations

import cv2
import numpy as np


def _rgb(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image


def confidence_colours(confidence: np.ndarray) -> np.ndarray:
    """(N, 3) uint8 RGB from red (0) through yellow to green (1)."""
    c = np.clip(np.asarray(confidence, dtype=np.float32), 0.0, 1.0)[:, None]
    red = np.array([230, 40, 40], np.float32)
    yellow = np.array([240, 220, 40], np.float32)
    green = np.array([40, 200, 60], np.float32)
    colour = np.where(c < 0.5, red + (yellow - red) * (c * 2), yellow + (green - yellow) * (c * 2 - 1))
    return colour.astype(np.uint8)


def draw_matches(
    image0: np.ndarray,
    image1: np.ndarray,
    keypoints0: np.ndarray,
    keypoints1: np.ndarray,
    confidence: np.ndarray,
    inliers: np.ndarray | None = None,
    max_lines: int = 500,
) -> np.ndarray:
    """Side-by-side RGB drawing; lines coloured by confidence, outliers (when flags are given) in grey."""
    left, right = _rgb(image0), _rgb(image1)
    height = max(left.shape[0], right.shape[0])
    canvas = np.zeros((height, left.shape[1] + right.shape[1], 3), np.uint8)
    canvas[: left.shape[0], : left.shape[1]] = left
    canvas[: right.shape[0], left.shape[1] :] = right
    n = len(confidence)
    order = np.argsort(-np.asarray(confidence))[:max_lines] if n else np.zeros(0, int)
    colours = confidence_colours(confidence)
    offset = np.array([left.shape[1], 0], np.float32)
    for i in order[::-1]:  # most confident drawn last, on top
        is_outlier = inliers is not None and not inliers[i]
        colour = (140, 140, 140) if is_outlier else tuple(int(v) for v in colours[i])
        p0 = tuple(round(float(v)) for v in keypoints0[i])
        p1 = tuple(round(float(v)) for v in np.asarray(keypoints1[i]) + offset)
        cv2.line(canvas, p0, p1, colour, 1, cv2.LINE_AA)
        cv2.circle(canvas, p0, 2, colour, -1, cv2.LINE_AA)
        cv2.circle(canvas, p1, 2, colour, -1, cv2.LINE_AA)
    return canvas
