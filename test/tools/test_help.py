"""Every subcommand's help: an example, defaults as the user types them, said once."""

from __future__ import annotations

import re

import pytest

from loftr_ros.cli import COMMANDS, main


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_help_has_an_example_and_defaults_as_typed(command: str, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert "example" in text and f"loftr-ros {command}" in text.split("example", 1)[1]
    assert "(320, 240)" not in text and "(640, 480)" not in text  # sizes shown as WxH
    assert not re.search(r"\(default: [^)]*\) \(default:", text)  # never "(default: all) (default: [])"
