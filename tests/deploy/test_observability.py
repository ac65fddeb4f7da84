"""The Grafana dashboards and the alerts are built on metrics the services really emit: every
metric a panel queries is created somewhere in services/ (OpenTelemetry instruments, named as
the collector's Prometheus exporter names them)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.deploy.chart import CHART, REPO, of_kind, render

DASHBOARDS = sorted((CHART / "files" / "dashboards").glob("*.json"))
# Alerts may also use kube-state-metrics, which every cluster with Prometheus runs; panels may not.
KUBE_STATE_METRICS = {
    "kube_deployment_status_replicas_available",
    "kube_deployment_spec_replicas",
    "kube_job_status_failed",
}
INSTRUMENT = re.compile(
    r"\.create_(?P<kind>histogram|counter|up_down_counter|gauge|observable_gauge|"
    r"observable_counter|observable_up_down_counter)\(\s*\"(?P<name>[^\"]+)\"(?P<rest>[^)]*)",
)
# OpenTelemetry units -> the suffix the collector's Prometheus exporter appends.
UNIT_SUFFIXES = {"s": "seconds", "ms": "milliseconds", "By": "bytes", "1": "ratio"}
PROMQL_WORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "bool",
    "offset",
    "on",
    "ignoring",
    "group_left",
    "group_right",
}


def _prometheus_names(kind: str, name: str, unit: str) -> set[str]:
    base = re.sub(r"[^a-zA-Z0-9_:]", "_", name)
    suffix = UNIT_SUFFIXES.get(unit, "")
    if suffix and not base.endswith(f"_{suffix}"):
        base = f"{base}_{suffix}"
    if kind == "histogram":
        return {f"{base}_bucket", f"{base}_sum", f"{base}_count"}
    if kind in ("counter", "observable_counter"):
        return {f"{base}_total"}
    return {base}


def emitted_metrics() -> set[str]:
    """Prometheus names of every instrument created in services/."""
    names: set[str] = set()
    for source in (REPO / "services").rglob("*.py"):
        for match in INSTRUMENT.finditer(source.read_text(encoding="utf-8")):
            unit = re.search(r"unit=\"([^\"]*)\"", match["rest"])
            names |= _prometheus_names(match["kind"], match["name"], unit[1] if unit else "")
    return names


def metrics_in(expr: str) -> set[str]:
    """The metric names a PromQL expression (with Grafana variables) selects."""
    label_values = re.match(r"^\s*label_values\(\s*([a-zA-Z_:][\w:]*)", expr)
    if label_values:
        return {label_values[1]}
    text = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    text = re.sub(r"\{[^}]*\}", "", text)
    text = re.sub(r"\[[^\]]*\]", "", text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    found = set()
    for match in re.finditer(r"(?<![\w$.])([a-zA-Z_:][\w:]*)\b(\s*\()?", text):
        if match[2] or match[1] in PROMQL_WORDS:
            continue  # a function, or a keyword
        found.add(match[1])
    return found


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return [p for p in out if p["type"] != "row"]


def test_the_code_emits_the_metrics_the_brief_names() -> None:
    assert {
        "http_server_request_duration_seconds_bucket",
        "http_server_request_duration_seconds_count",
        "db_client_connection_count",
        "qlvb_storage_tenant_bytes",
        "qlvb_storage_tenant_objects",
        # Events: outbox backlog per service, stream lag and pending per consumer group.
        "qlvb_outbox_backlog",
        "qlvb_outbox_oldest_age_seconds",
        "qlvb_outbox_published_total",
        "qlvb_events_lag",
        "qlvb_events_pending",
        "qlvb_events_consumed_total",
        "qlvb_events_dead_lettered_total",
        # Background jobs: queue depth, the oldest due job's wait, durations and failures.
        "qlvb_jobs_depth",
        "qlvb_jobs_wait_seconds",
        "qlvb_jobs_duration_seconds_count",
        # Interchange deliveries by status, dead letters and backlog per agency.
        "qlvb_interchange_deliveries_total",
        "qlvb_interchange_dead_letters_total",
        "qlvb_interchange_dead_letters_open",
        "qlvb_interchange_backlog",
        # Signatures by kind, overdue documents per agency.
        "qlvb_docs_signatures_total",
        "qlvb_docs_overdue",
    } <= emitted_metrics()


def test_the_promql_reader_finds_metric_names() -> None:
    expr = (
        'sum by (job, le) (rate(http_server_request_duration_seconds_bucket{job=~"$job",'
        ' http_route!~"/a.*"}[$__rate_interval])) / on (job) group_left max(up_total) > 0.5'
    )
    assert metrics_in(expr) == {"http_server_request_duration_seconds_bucket", "up_total"}
    assert metrics_in('label_values(qlvb_storage_tenant_bytes{x="y"}, tenant_id)') == {
        "qlvb_storage_tenant_bytes"
    }


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_panel_queries_only_metrics_the_services_emit(path: Any) -> None:
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    emitted = emitted_metrics()
    panels = _panels(dashboard)
    assert panels
    for panel in panels:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used = metrics_in(target["expr"])
            assert used, f"{panel['title']}: no metric in {target['expr']}"
            assert used <= emitted, f"{panel['title']}: {sorted(used - emitted)} not emitted"
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            query = variable["query"]["query"]
            assert metrics_in(query) <= emitted, variable["name"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboards_are_portable_between_grafanas(path: Any) -> None:
    dashboard = json.loads(path.read_text(encoding="utf-8"))
    assert dashboard["uid"].startswith("qlvb-")
    names = [v["name"] for v in dashboard["templating"]["list"]]
    assert "datasource" in names
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in _panels(dashboard):
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["description"], panel["title"]


def test_the_chart_ships_each_dashboard_in_a_labelled_configmap() -> None:
    docs = render("production")
    shipped = {}
    for config_map in of_kind(docs, "ConfigMap"):
        if config_map["metadata"]["labels"].get("grafana_dashboard") == "1":
            shipped.update(config_map["data"])
    assert set(shipped) == {p.name for p in DASHBOARDS}
    for path in DASHBOARDS:
        assert json.loads(shipped[path.name]) == json.loads(path.read_text(encoding="utf-8"))


def test_alerts_use_only_emitted_or_kube_state_metrics() -> None:
    (rule,) = of_kind(render("production"), "PrometheusRule")
    allowed = emitted_metrics() | KUBE_STATE_METRICS
    for group in rule["spec"]["groups"]:
        for alert in group["rules"]:
            used = metrics_in(alert["expr"])
            assert used, alert["alert"]
            assert used <= allowed, f"{alert['alert']}: {sorted(used - allowed)}"
