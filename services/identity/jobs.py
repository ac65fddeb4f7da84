"""Background jobs of the identity service, run by `qlvb worker identity`."""

from __future__ import annotations

from typing import Any

from saq import CronJob

FUNCTIONS: list[Any] = []
CRON_JOBS: list[CronJob[Any]] = []
