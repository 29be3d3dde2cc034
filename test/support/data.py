"""Where the tests find ../shared/data, wherever pytest runs from."""

from pathlib import Path

SHARED_TUM = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tum_fr3_long_office_household"
