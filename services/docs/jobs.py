"""Background jobs of the docs service, run by `qlvb worker docs`."""

from __future__ import annotations

from typing import Any

from saq import CronJob

FUNCTIONS: list[Any] = []
CRON_JOBS: list[CronJob[Any]] = []
