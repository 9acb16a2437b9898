"""Settings for the test suite: the normal settings in MUTUALIST_MODE=test."""

import os

os.environ.setdefault("MUTUALIST_MODE", "test")

from mutualist.settings import *  # noqa: F403
