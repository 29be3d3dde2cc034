"""The ``loftr-ros`` subcommands, one module each (see :mod:`loftr_ros.cli`)."""

from pathlib import Path

# The real TUM frames beside a checkout (``../shared/data``): the default of the tools that evaluate on them.
SHARED_TUM_FOLDER = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tum_fr3_long_office_household"
