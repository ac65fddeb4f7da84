"""docs/operations.md tells operators what the chart really does: its secret keys, its public
paths, and the procedures issue 11 asks for."""

from __future__ import annotations

import re

from tests.deploy.chart import REPO, SERVICES, env_of, of_kind, pod_templates, render

GUIDE = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    match = re.search(rf"^## \d+\. {title}\n(.*?)(?=^## |\Z)", GUIDE, re.MULTILINE | re.DOTALL)
    assert match, f"no section {title!r}"
    return match[1]


def test_the_guide_has_every_procedure() -> None:
    for title in (
        "What runs",
        "Secrets",
        "Install",
        "Upgrade",
        "Scale",
        "Backup and restore",
        "Rotate secrets",
        "Monitoring",
        "Onboard an agency",
        "Handle a province merger",
    ):
        assert _section(title).strip(), title
    backup = _section("Backup and restore")
    for subject in ("PostgreSQL", "MinIO", "Keycloak", "Redis"):
        assert subject in backup
    assert "/api/v1/reorganisations/merge" in _section("Handle a province merger")


def test_the_guide_lists_every_secret_key_the_pods_read() -> None:
    listed = set(re.findall(r"`(QLVB_[A-Z0-9_<>]+)`", _section("Secrets")))
    expanded = {name.replace("<SVC>", service.upper()) for name in listed for service in SERVICES}
    read = set()
    for _, template in pod_templates(render("production")):
        for container in template["spec"]["containers"]:
            for entry in env_of(container).values():
                if "secretKeyRef" in entry.get("valueFrom", {}):
                    read.add(entry["valueFrom"]["secretKeyRef"]["key"])
    read.discard("uri")  # the superuser URL's key in CloudNativePG's secret, named in the text
    assert read <= expanded, sorted(read - expanded)


def test_the_guide_lists_the_ingress_paths_the_chart_routes() -> None:
    paragraph = _section("What runs").split("Ingress (one host):", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"`(/[^`]*)`", paragraph))
    (ingress,) = of_kind(render("production"), "Ingress")
    routed = {p["path"] for p in ingress["spec"]["rules"][0]["http"]["paths"]}
    assert listed == routed
