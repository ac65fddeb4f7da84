"""NetworkPolicy: every pod of the release is under a default deny, and each is allowed exactly
what it needs: DNS, PostgreSQL, Redis, the collector, Keycloak, S3 for storage, the calls between
services (docs and interchange -> identity and storage) and the ingress controller for the
public APIs."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.deploy.chart import CASES, CHART, REPO, Doc, of_kind, pod_templates, render, selects


def _policies_for(docs: tuple[Doc, ...], labels: dict[str, str]) -> list[Doc]:
    return [p for p in of_kind(docs, "NetworkPolicy") if selects(p["spec"]["podSelector"], labels)]


def _egress_ports(policies: list[Doc]) -> set[int]:
    return {
        port["port"]
        for policy in policies
        for rule in policy["spec"].get("egress", [])
        for port in rule.get("ports", [])
    }


def _api_pods_reached(policies: list[Doc]) -> set[str]:
    """Services whose API pods an egress rule names."""
    return {
        peer["podSelector"]["matchLabels"]["qlvb.gov.vn/service"]
        for policy in policies
        for rule in policy["spec"].get("egress", [])
        for peer in rule.get("to", [])
        if "podSelector" in peer and "qlvb.gov.vn/service" in peer["podSelector"]["matchLabels"]
    }


def _ingress_sources(policies: list[Doc]) -> list[Doc]:
    return [
        peer
        for policy in policies
        for rule in policy["spec"].get("ingress", [])
        for peer in rule.get("from", [])
    ]


@pytest.mark.parametrize("case", CASES)
def test_every_pod_is_under_a_default_deny_and_an_allow_list(case: str) -> None:
    docs = render(case)
    for workload, template in pod_templates(docs):
        name = workload["metadata"]["name"]
        labels = template["metadata"]["labels"]
        policies = _policies_for(docs, labels)
        deny = [p for p in policies if "ingress" not in p["spec"] and "egress" not in p["spec"]]
        assert deny, f"{name} is not under the default deny"
        for policy in policies:
            assert set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
        allows = [p for p in policies if p not in deny]
        assert allows, f"{name} has no allow policy"
        ports = _egress_ports(allows)
        assert {53, 5432} <= ports, f"{name} cannot reach DNS and PostgreSQL"


@pytest.mark.parametrize("case", CASES)
def test_long_running_pods_reach_redis_and_the_collector_and_hooks_reach_only_postgresql(
    case: str,
) -> None:
    docs = render(case)
    for workload, template in pod_templates(docs):
        ports = _egress_ports(_policies_for(docs, template["metadata"]["labels"]))
        if workload["kind"] == "Deployment":
            assert {6379, 4318} <= ports, workload["metadata"]["name"]
        else:
            assert ports == {53, 5432}, workload["metadata"]["name"]


@pytest.mark.parametrize("case", CASES)
def test_only_storage_pods_reach_s3(case: str) -> None:
    docs = render(case)
    s3_ports = set()
    for policy in of_kind(docs, "NetworkPolicy"):
        for rule in policy["spec"].get("egress", []):
            if any(p["port"] == 9000 for p in rule.get("ports", [])):
                s3_ports.add(policy["spec"]["podSelector"]["matchLabels"]["qlvb.gov.vn/service"])
    assert s3_ports == {"storage"}


# Who calls whom over HTTP, from the services' settings (identity_url, storage_url).
CALLS = {
    "docs": {"identity", "storage", "interchange"},
    "interchange": {"identity", "storage"},
}


def test_the_calls_between_services_are_the_ones_their_settings_name() -> None:
    for service in ("identity", "storage", "docs", "interchange"):
        source = (REPO / "services" / service / "settings.py").read_text(encoding="utf-8")
        named = set(re.findall(r"^\s+(\w+)_url: str = \"http://127", source, re.MULTILINE))
        assert named == CALLS.get(service, set()), service
        values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
        assert set(values["services"][service]["calls"]) == CALLS.get(service, set()), service


@pytest.mark.parametrize("case", CASES)
def test_pods_reach_the_apis_their_service_calls_and_no_other(case: str) -> None:
    docs = render(case)
    for workload, template in pod_templates(docs):
        if workload["kind"] != "Deployment":
            continue
        labels = template["metadata"]["labels"]
        reached = _api_pods_reached(_policies_for(docs, labels))
        service, kind = labels["qlvb.gov.vn/service"], labels["app.kubernetes.io/component"]
        expected = set() if kind == "relay" else CALLS.get(service, set())
        assert reached == expected, workload["metadata"]["name"]


@pytest.mark.parametrize("case", CASES)
def test_api_pods_admit_the_ingress_controller_and_their_callers_only(case: str) -> None:
    docs = render(case)
    (ingress,) = of_kind(docs, "Ingress")
    public_services = {
        p["backend"]["service"]["name"] for p in ingress["spec"]["rules"][0]["http"]["paths"]
    }
    for deployment in of_kind(docs, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        service, kind = labels["qlvb.gov.vn/service"], labels["app.kubernetes.io/component"]
        sources = _ingress_sources(_policies_for(docs, labels))
        if kind != "api":
            assert sources == [], deployment["metadata"]["name"]
            continue
        controllers = [s for s in sources if "namespaceSelector" in s]
        callers = {
            s["podSelector"]["matchLabels"]["qlvb.gov.vn/service"]
            for s in sources
            if "namespaceSelector" not in s
        }
        public = deployment["metadata"]["name"] in public_services
        assert bool(controllers) == public, deployment["metadata"]["name"]
        assert callers == {c for c, targets in CALLS.items() if service in targets}
    for policy in of_kind(docs, "NetworkPolicy"):
        for rule in policy["spec"].get("ingress", []):
            assert rule["from"], "an ingress rule without `from` admits everyone"


def test_production_narrows_every_dependency_to_named_pods() -> None:
    docs = render("production")
    for policy in of_kind(docs, "NetworkPolicy"):
        for rule in policy["spec"].get("egress", []):
            assert rule.get("to"), f"{policy['metadata']['name']}: egress to any address"
