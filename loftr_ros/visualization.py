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


LEGEND_HEIGHT = 36  # pixels of the legend strip under a drawing
OUTLIER_GREY = (150, 150, 150)


def draw_matches(
    image0: np.ndarray,
    image1: np.ndarray,
    keypoints0: np.ndarray,
    keypoints1: np.ndarray,
    confidence: np.ndarray,
    inliers: np.ndarray | None = None,
    max_lines: int = 100,
) -> np.ndarray:
    """Both images side by side (RGB) above a legend; a line per match coloured by confidence, outliers grey.

    Keypoints are pixels of each image ((0, 0) = centre of the top-left pixel). At most ``max_lines`` matches
    are drawn, an even sample of all of them (the same every time), the most confident on top; thousands of
    lines would hide the images. The legend gives the colour scale, the outlier colour (when ``inliers`` is
    given: RANSAC's verdict) and how many of how many matches are drawn.
    """
    left, right = _rgb(image0), _rgb(image1)
    height, width = max(left.shape[0], right.shape[0]), left.shape[1] + right.shape[1]
    canvas = np.zeros((height + LEGEND_HEIGHT, width, 3), np.uint8)
    canvas[: left.shape[0], : left.shape[1]] = left
    canvas[: right.shape[0], left.shape[1] :] = right
    confidence = np.asarray(confidence, dtype=np.float32)
    colours = confidence_colours(confidence)
    offset = np.array([left.shape[1], 0], np.float32)
    shown = np.arange(len(confidence))
    if len(shown) > max_lines:
        shown = np.sort(np.random.default_rng(0).choice(len(shown), max_lines, replace=False))
    for i in shown[np.argsort(confidence[shown])]:
        outlier = inliers is not None and not inliers[i]
        colour = OUTLIER_GREY if outlier else tuple(int(v) for v in colours[i])
        a = tuple(int(v) for v in np.round(np.asarray(keypoints0[i], np.float32) * (1 << _SHIFT)))
        b = tuple(int(v) for v in np.round((np.asarray(keypoints1[i], np.float32) + offset) * (1 << _SHIFT)))
        cv2.line(canvas, a, b, colour, 1, cv2.LINE_AA, _SHIFT)
        cv2.circle(canvas, a, 2 << _SHIFT, colour, -1, cv2.LINE_AA, _SHIFT)
        cv2.circle(canvas, b, 2 << _SHIFT, colour, -1, cv2.LINE_AA, _SHIFT)
    _legend(canvas[height:], len(shown), len(confidence), inliers)
    return canvas


def _legend(strip: np.ndarray, drawn: int, total: int, inliers: np.ndarray | None) -> None:
    font, scale, white = cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255)
    y = strip.shape[0] // 2 + 4
    x = 6
    cv2.putText(strip, "confidence low", (x, y), font, scale, white, 1, cv2.LINE_AA)
    x += 100
    bar = confidence_colours(np.linspace(0.0, 1.0, 60))
    strip[y - 9 : y + 1, x : x + 60] = bar[None, :, :]
    x += 64
    cv2.putText(strip, "high", (x, y), font, scale, white, 1, cv2.LINE_AA)
    x += 40
    if inliers is not None:
        cv2.rectangle(strip, (x, y - 9), (x + 12, y + 1), OUTLIER_GREY, -1)
        cv2.putText(strip, f"outlier after RANSAC ({int(np.count_nonzero(~np.asarray(inliers, bool)))})",
                    (x + 16, y), font, scale, white, 1, cv2.LINE_AA)  # fmt: skip
        x += 210
    cv2.putText(strip, f"{drawn} of {total} matches drawn", (x, y), font, scale, white, 1, cv2.LINE_AA)
