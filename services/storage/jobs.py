"""Background jobs of the storage service, run by `qlvb worker storage`."""

from __future__ import annotations

from typing import Any

from saq import CronJob

FUNCTIONS: list[Any] = []
CRON_JOBS: list[CronJob[Any]] = []
