"""The ``match`` and ``benchmark-matcher`` tools, run through the CLI dispatcher."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from loftr_ros.cli import main
from loftr_ros.visualization import LEGEND_HEIGHT


@pytest.fixture
def image_files(tmp_path: Path, textured_pair: Callable) -> tuple[Path, Path]:
    image0, image1 = textured_pair(90, 120, 100, 140)
    path0, path1 = tmp_path / "a.png", tmp_path / "b.jpg"
    cv2.imwrite(str(path0), image0)  # grayscale file
    cv2.imwrite(str(path1), cv2.cvtColor(image1, cv2.COLOR_GRAY2BGR), [cv2.IMWRITE_JPEG_QUALITY, 98])
    return path0, path1


def test_match_writes_keypoints_in_input_pixels_and_a_drawing(tmp_path: Path, image_files: tuple, caplog) -> None:
    caplog.set_level(logging.INFO)
    output, viz = tmp_path / "out" / "m.npz", tmp_path / "out" / "m.png"
    argv = ["match", *map(str, image_files), "--weights", "random", "--max-side", "64", "--threshold", "0"]
    code = main([*argv, "--output", str(output), "--viz", str(viz), "--device", "cpu"])
    assert code == 0
    with np.load(output) as data:
        kp0, kp1, conf = data["keypoints0"], data["keypoints1"], data["confidence"]
    assert kp0.shape == kp1.shape == (len(conf), 2) and kp0.dtype == np.float32
    assert len(conf) > 0 and ((conf >= 0) & (conf <= 1)).all()
    # network at 64 px wide, keypoints reported in the 120 x 90 and 140 x 100 input pixels
    assert kp0[:, 0].max() > 63 and kp0[:, 0].max() < 120 and kp1[:, 1].max() < 100 + 4
    drawing = cv2.imread(str(viz))
    assert drawing.shape == (100 + LEGEND_HEIGHT, 260, 3)  # the images side by side above the legend
    assert "RANDOM weights" in caplog.text and "Matched" in caplog.text


def test_match_uses_the_shipped_weights_by_default_and_reports_bad_input(tmp_path: Path, image_files: tuple) -> None:
    out = tmp_path / "m.npz"
    assert main(["match", *map(str, image_files), "--max-side", "64", "--output", str(out)]) == 0
    assert out.exists()  # 'default', the one spelling of the shipped weights, is the default
    assert main(["match", str(tmp_path / "missing.png"), str(image_files[1]), "--weights", "random"]) == 1
    assert main(["match", *map(str, image_files), "--weights", "indoor_ds"]) == 1  # Google Drive only


def test_match_help_explains_the_weights_choice(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["match", "--help"])
    text = capsys.readouterr().out
    assert "'default' (the weights shipped with loftr_ros)" in text and "random" in text and "outdoor_ot" in text
    assert "example: loftr-ros match" in text


def test_benchmark_prints_rates_ratios_and_the_equality_check(capsys) -> None:
    argv = [
        "benchmark-matcher",
        "--sizes",
        "64x48",
        "--keyframes",
        "1",
        "2",
        "--repeats",
        "1",
        "--warmup",
        "0",
    ]
    assert main([*argv, "--device", "cpu"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line for line in lines if line.lstrip().startswith("64x48")]
    assert len(rows) == 3
    assert "kornia" in rows[0]
    assert "k=1" in rows[1] and "k=2" in rows[2]
    assert all("equal:" in row and "x " in row for row in rows[1:])
