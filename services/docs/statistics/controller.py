"""HTTP API of the statistics: the figures as JSON (dashboards) and the monthly report as XLSX
and PDF."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import QueryParameter

from services.common.auth.guards import requires_role, tenant_of
from services.common.auth.principal import Principal
from services.common.problems import prefers_english
from services.docs.incoming.service import today
from services.docs.statistics import months, report, report_pdf, report_xlsx
from services.docs.statistics.labels import Locale
from services.docs.statistics.schemas import Group, Scope, Statistics
from services.docs.statistics.scope import READERS
from services.docs.statistics.service import StatisticsService

# `from` is a Python keyword: the parameter keeps its name in the query string.
FromMonth = Annotated[
    str | None,
    QueryParameter(
        name="from", pattern=months.PATTERN, description="Tháng đầu (YYYY-MM); mặc định: `to`"
    ),
]
ToMonth = Annotated[
    str | None,
    QueryParameter(
        name="to", pattern=months.PATTERN, description="Tháng cuối (YYYY-MM); mặc định: tháng này"
    ),
]
# `scope` is a reserved keyword of Litestar handlers; the query parameter keeps the name.
ScopeParam = Annotated[
    Scope,
    QueryParameter(name="scope", description="own: cơ quan mình; tree: cả các đơn vị trực thuộc"),
]
GroupParam = Annotated[
    Group,
    QueryParameter(
        description="agency | department | person (phòng, ban và người xử lý: chỉ cơ quan mình)"
    ),
]
AgencyParam = Annotated[
    uuid.UUID | None,
    QueryParameter(description="Một đơn vị trực thuộc để xem riêng; mặc định: cơ quan mình"),
]


class StatisticsController(Controller):
    path = "/api/v1/statistics"
    tags = ("statistics",)
    guards = (requires_role(*READERS),)

    @get(
        "",
        summary="Thống kê văn bản đến, đi, ký số, gửi qua Trục, thời gian xử lý, đúng hạn",
    )
    async def figures(
        self,
        request: Request[Principal, Any, Any],
        statistics: NamedDependency[StatisticsService],
        from_month: FromMonth = None,
        to_month: ToMonth = None,
        statistics_scope: ScopeParam = "own",
        group: GroupParam = "agency",
        agency: AgencyParam = None,
    ) -> Statistics:
        tenant_id = tenant_of(request)
        return await _statistics(
            request, statistics, tenant_id, from_month, to_month, statistics_scope, group, agency
        )

    @get("/report.xlsx", summary="Báo cáo thống kê (Excel, có biểu đồ)")
    async def report_xlsx(
        self,
        request: Request[Principal, Any, Any],
        statistics: NamedDependency[StatisticsService],
        from_month: FromMonth = None,
        to_month: ToMonth = None,
        statistics_scope: ScopeParam = "own",
        group: GroupParam = "agency",
        agency: AgencyParam = None,
    ) -> Response[bytes]:
        tenant_id = tenant_of(request)
        figures = await _statistics(
            request, statistics, tenant_id, from_month, to_month, statistics_scope, group, agency
        )
        built = report.build(figures, _locale(request), today())
        return _file(report_xlsx.render(built), report_xlsx.MEDIA_TYPE, f"{built.file_stem}.xlsx")

    @get("/report.pdf", summary="Báo cáo thống kê (PDF, có biểu đồ)")
    async def report_pdf(
        self,
        request: Request[Principal, Any, Any],
        statistics: NamedDependency[StatisticsService],
        from_month: FromMonth = None,
        to_month: ToMonth = None,
        statistics_scope: ScopeParam = "own",
        group: GroupParam = "agency",
        agency: AgencyParam = None,
    ) -> Response[bytes]:
        tenant_id = tenant_of(request)
        figures = await _statistics(
            request, statistics, tenant_id, from_month, to_month, statistics_scope, group, agency
        )
        built = report.build(figures, _locale(request), today())
        return _file(report_pdf.render(built), report_pdf.MEDIA_TYPE, f"{built.file_stem}.pdf")


async def _statistics(
    request: Request[Principal, Any, Any],
    statistics: StatisticsService,
    tenant_id: uuid.UUID,
    from_month: str | None,
    to_month: str | None,
    scope: Scope,
    group: Group,
    agency: uuid.UUID | None,
) -> Statistics:
    last = months.parse(to_month) if to_month else None
    first = months.parse(from_month) if from_month else None
    return await statistics.statistics(
        request.user,
        tenant_id,
        first=first,
        last=last,
        scope=scope,
        group=group,
        agency=agency,
    )


def _locale(request: Request[Principal, Any, Any]) -> Locale:
    return "en" if prefers_english(request) else "vi"


def _file(content: bytes, media_type: str, name: str) -> Response[bytes]:
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            # Figures change with every document handled; a stale copy would mislead.
            "Cache-Control": "no-store",
        },
    )
