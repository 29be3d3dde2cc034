"""The real-data keyframe evaluation runs ORB through the same pose code and localizes nearby frames."""

from __future__ import annotations

import argparse
import re

import pytest
from support.data import SHARED_TUM

from loftr_ros.errors import ConfigError
from loftr_ros.tools import tum_keyframe_eval

DATA = SHARED_TUM


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    tum_keyframe_eval.add_arguments(parser)
    return parser.parse_args(list(argv))


@pytest.mark.skipif(not DATA.exists(), reason="the TUM subset is not in ../shared/data")
def test_orb_localizes_the_nearby_queries(capsys: pytest.CaptureFixture[str]) -> None:
    assert tum_keyframe_eval.run(_args("--matchers", "orb")) == 0
    out = capsys.readouterr().out
    found = re.search(r"orb: (\d+) of (\d+) localized within 10 cm and 5 deg", out)
    assert found and int(found[2]) == 16
    assert int(found[1]) >= 5  # measured 6 with the default gates (frames up to ~6 s away)


def test_unknown_matcher_is_refused_with_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"matcher\.type must be one of loftr, sift, orb, not 'akaze'"):
        tum_keyframe_eval.make_matcher("akaze", _args())
