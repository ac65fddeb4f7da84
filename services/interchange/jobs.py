"""Background jobs of the interchange service, run by `qlvb worker interchange`."""

from __future__ import annotations

from typing import Any

from saq import CronJob

FUNCTIONS: list[Any] = []
CRON_JOBS: list[CronJob[Any]] = []
