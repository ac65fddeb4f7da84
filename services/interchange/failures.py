"""The two ways a delivery step fails, because what happens next differs:

* `TemporaryFailure`: a dependency did not answer (the axis, storage, identity). Nothing was
  decided; the step is retried later with backoff and the message keeps its place in line.
* `Refusal`: the input itself is wrong (a malformed packet, an unknown recipient, a hash that
  does not match, a status for a document never sent). Retrying cannot help: it is recorded as a
  dead letter with its `reason`, answered to the sender when possible, and never applied."""

from __future__ import annotations

from typing import ClassVar

from services.common.problems import DependencyUnavailable, Problem


class TemporaryFailure(DependencyUnavailable):
    code = "temporarily-unavailable"


class Refusal(Problem):
    status: ClassVar[int] = 422
    code: ClassVar[str] = "delivery-refused"
    title_vi: ClassVar[str] = "Không chuyển được văn bản"
    title_en: ClassVar[str] = "The delivery was refused"

    def __init__(
        self, reason: str, detail_vi: str, detail_en: str, *, path: str | None = None
    ) -> None:
        super().__init__(detail_vi, detail_en, reason=reason)
        self.reason = reason
        self.path = path

    @property
    def detail(self) -> str:
        return self.detail_en or self.detail_vi
