"""charts/qlvb renders, lints clean, and every object is valid Kubernetes that a cluster with the
restricted Pod Security Standard and default-deny networking would run as intended."""

from __future__ import annotations

import importlib
import re

import kubernetes_validate
import msgspec
import pytest
import yaml

from services.common import heartbeat
from tests.deploy.chart import (
    CASES,
    CHART,
    KINDS,
    KUBE_VERSION,
    REPO,
    SERVICES,
    Doc,
    env_of,
    helm,
    hook_weight,
    of_kind,
    pod_templates,
    render,
    selects,
)

VALUES_FILES = sorted(p.name for p in CHART.glob("values*.yaml"))


def test_every_values_file_is_rendered_by_the_tests() -> None:
    rendered = {v for values in CASES.values() for v in values if not v.startswith("--")}
    assert set(VALUES_FILES) <= rendered
    assert {"values.yaml", "values-dev.yaml", "values-production.yaml"} <= set(VALUES_FILES)


# Where the processes touch their heartbeat unless told otherwise: what the probes must read.
HEARTBEAT = heartbeat.DEFAULT_HEARTBEAT_FILE


@pytest.mark.parametrize("values_file", VALUES_FILES)
def test_helm_lint_is_clean(values_file: str) -> None:
    result = helm("lint", "--strict", str(CHART), f"--values={CHART / values_file}")
    assert result.returncode == 0, result.stdout + result.stderr
    findings = [
        line
        for line in result.stdout.splitlines()
        if re.match(r"^\[(INFO|WARNING|ERROR)\]", line.strip())
    ]
    assert findings == [], result.stdout


@pytest.mark.parametrize("case", CASES)
def test_every_object_is_valid_for_the_pinned_kubernetes_version(case: str) -> None:
    errors: list[str] = []
    for doc in render(case):
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["apiVersion"].startswith("monitoring.coreos.com/"):
            continue  # custom resources: checked by test_monitoring_objects_are_well_formed
        try:
            kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            errors.append(f"{name}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(f"{name}: {exc.message}")
    assert errors == []


@pytest.mark.parametrize("case", CASES)
def test_every_object_lives_in_the_release_namespace_with_its_labels(case: str) -> None:
    for doc in render(case):
        meta = doc["metadata"]
        assert meta["namespace"] == "qlvb", meta["name"]
        assert meta["labels"]["app.kubernetes.io/instance"] == "qlvb", meta["name"]
        assert meta["labels"]["app.kubernetes.io/name"] == "qlvb", meta["name"]


@pytest.mark.parametrize("case", CASES)
def test_every_container_has_requests_limits_and_a_locked_down_security_context(
    case: str,
) -> None:
    pods = list(pod_templates(render(case)))
    assert pods
    for workload, template in pods:
        spec = template["spec"]
        name = workload["metadata"]["name"]
        pod_sc = spec["securityContext"]
        assert pod_sc["runAsNonRoot"] is True, name
        assert pod_sc["runAsUser"] > 0, name
        assert pod_sc["seccompProfile"]["type"] == "RuntimeDefault", name
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["enableServiceLinks"] is False, name
        assert "hostNetwork" not in spec, name
        assert "hostPID" not in spec, name
        tmp = {v["name"]: v for v in spec["volumes"]}["tmp"]
        assert tmp["emptyDir"]["sizeLimit"], name
        for container in spec["containers"]:
            resources = container["resources"]
            for part in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources[part]), f"{name}: {part}"
            sc = container["securityContext"]
            assert sc["runAsNonRoot"] is True, name
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc.get("privileged", False) is False, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            assert "add" not in sc["capabilities"], name
            assert sc["seccompProfile"]["type"] == "RuntimeDefault", name
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert mounts["/tmp"] == "tmp", f"{name}: /tmp must be a writable emptyDir"  # noqa: S108


@pytest.mark.parametrize("case", CASES)
def test_every_deployment_container_has_liveness_and_readiness_probes(case: str) -> None:
    for deployment in of_kind(render(case), "Deployment"):
        kind = deployment["metadata"]["labels"]["app.kubernetes.io/component"]
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            name = deployment["metadata"]["name"]
            assert "livenessProbe" in container, name
            assert "readinessProbe" in container, name
            if kind == "api":
                assert container["livenessProbe"]["httpGet"]["path"] == "/health", name
                assert container["readinessProbe"]["httpGet"]["path"] == "/ready", name
                assert container["startupProbe"]["httpGet"]["path"] == "/health", name
            else:
                # Background processes answer with their heartbeat file (services/common/heartbeat).
                assert container["startupProbe"]["exec"]["command"] == [
                    "test",
                    "-f",
                    HEARTBEAT,
                ], name
                live = " ".join(container["livenessProbe"]["exec"]["command"])
                assert f"stat -c %Y {HEARTBEAT}" in live, name
                assert live.endswith(" -lt 30"), name


@pytest.mark.parametrize("case", CASES)
def test_every_deployment_has_a_pdb_that_selects_exactly_its_pods(case: str) -> None:
    docs = render(case)
    deployments = of_kind(docs, "Deployment")
    pdbs = of_kind(docs, "PodDisruptionBudget")
    for deployment in deployments:
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [p for p in pdbs if selects(p["spec"]["selector"], labels)]
        assert len(covering) == 1, deployment["metadata"]["name"]
        spec = covering[0]["spec"]
        assert ("minAvailable" in spec) != ("maxUnavailable" in spec)
        # A budget that allows no eviction of a one-replica Deployment would block node drains.
        if deployment["spec"].get("replicas", 2) < 2:
            assert "maxUnavailable" in spec, deployment["metadata"]["name"]


@pytest.mark.parametrize("case", CASES)
def test_a_deployment_per_service_and_enabled_kind_runs_the_matching_command(case: str) -> None:
    docs = render(case)
    values = _values(case)
    expected = {
        (s, k)
        for s in SERVICES
        if values["services"][s]["enabled"]
        for k in KINDS
        if values["services"][s][k]["enabled"]
    }
    found = {}
    for deployment in of_kind(docs, "Deployment"):
        labels = deployment["metadata"]["labels"]
        key = (labels["qlvb.gov.vn/service"], labels["app.kubernetes.io/component"])
        found[key] = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    assert set(found) == expected
    command = {"api": "serve", "relay": "relay", "worker": "worker", "consumer": "consume"}
    for (service, kind), args in found.items():
        assert args == [command[kind], service]


def test_every_service_that_has_jobs_or_consumers_runs_them_by_default() -> None:
    values = _values("defaults")
    for service in SERVICES:
        has_jobs = bool(importlib.import_module(f"services.{service}.jobs").FUNCTIONS)
        assert values["services"][service]["worker"]["enabled"] == has_jobs, service
        consumers = REPO / "services" / service / "consumers.py"
        has_consumers = False
        if consumers.exists():
            module = importlib.import_module(f"services.{service}.consumers")
            has_consumers = bool(module.CONSUMERS)
        assert values["services"][service]["consumer"]["enabled"] == has_consumers, service


@pytest.mark.parametrize("case", CASES)
def test_autoscaled_deployments_leave_replicas_to_the_hpa(case: str) -> None:
    docs = render(case)
    deployments = {d["metadata"]["name"]: d for d in of_kind(docs, "Deployment")}
    for hpa in of_kind(docs, "HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        assert target["kind"] == "Deployment"
        assert "replicas" not in deployments[target["name"]]["spec"]
        assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


def test_production_autoscales_every_api_and_keeps_two_replicas_at_least() -> None:
    docs = render("production")
    hpas = {h["spec"]["scaleTargetRef"]["name"] for h in of_kind(docs, "HorizontalPodAutoscaler")}
    assert hpas == {f"qlvb-{s}" for s in SERVICES}
    for hpa in of_kind(docs, "HorizontalPodAutoscaler"):
        assert hpa["spec"]["minReplicas"] >= 2


@pytest.mark.parametrize("case", CASES)
def test_hook_jobs_bootstrap_then_migrate_identity_first(case: str) -> None:
    docs = render(case)
    hooks = [d for d in docs if "helm.sh/hook" in d["metadata"].get("annotations", {})]
    for hook in hooks:
        assert hook["metadata"]["annotations"]["helm.sh/hook"] == "pre-install,pre-upgrade"
    jobs = sorted(of_kind(docs, "Job"), key=hook_weight)
    migrations = [j for j in jobs if j["metadata"]["name"].startswith("qlvb-migrate-")]
    assert [j["metadata"]["name"] for j in migrations] == [f"qlvb-migrate-{s}" for s in SERVICES]
    assert len({hook_weight(j) for j in migrations}) == len(migrations), "one weight per Job"
    for job in migrations:
        service = job["metadata"]["labels"]["qlvb.gov.vn/service"]
        container = job["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == ["migrate", service]
        assert f"QLVB_{service.upper()}_MIGRATION_DATABASE_URL" in env_of(container)
    bootstrap = [j for j in jobs if j["metadata"]["name"] == "qlvb-db-bootstrap"]
    if bootstrap:
        assert hook_weight(bootstrap[0]) < hook_weight(migrations[0])
    # What the hook Jobs read exists before them: settings copies, script, network policy.
    first_job = min(hook_weight(j) for j in jobs)
    for hook in hooks:
        if hook["kind"] != "Job":
            assert hook_weight(hook) < first_job, hook["metadata"]["name"]
            policy = hook["metadata"]["annotations"]["helm.sh/hook-delete-policy"]
            assert "hook-succeeded" in policy, "hook copies of settings must not linger"


@pytest.mark.parametrize("case", CASES)
def test_the_owner_roles_password_never_reaches_a_running_pod(case: str) -> None:
    for deployment in of_kind(render(case), "Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            names = env_of(container)
            assert not [n for n in names if n.endswith("MIGRATION_DATABASE_URL")]
            assert "QLVB_POSTGRES_SUPERUSER_URL" not in names


@pytest.mark.parametrize("case", CASES)
def test_each_pod_reads_only_its_own_services_secrets(case: str) -> None:
    for workload, template in pod_templates(render(case)):
        service = workload["metadata"]["labels"]["qlvb.gov.vn/service"]
        if service == "platform":
            continue  # the database bootstrap creates every service's roles
        for container in template["spec"]["containers"]:
            for name, entry in env_of(container).items():
                if "valueFrom" not in entry or "secretKeyRef" not in entry["valueFrom"]:
                    continue
                others = [s for s in SERVICES if s != service]
                assert not any(name.startswith(f"QLVB_{o.upper()}_") for o in others), name
                if name.startswith("QLVB_S3_"):
                    assert service == "storage", f"{name} in {workload['metadata']['name']}"


def _settings_variable_names() -> set[str]:
    """Every QLVB_* variable some service's settings loader reads (services/*/settings.py)."""
    from services.common.settings import ServiceSettings

    names: set[str] = set()
    for service in SERVICES:
        module = importlib.import_module(f"services.{service}.settings")
        (settings_type,) = (
            v
            for v in vars(module).values()
            if isinstance(v, type)
            and issubclass(v, ServiceSettings)
            and v.__module__ == module.__name__
        )
        for prefix in ("QLVB_", f"QLVB_{service.upper()}_"):
            for field in msgspec.structs.fields(settings_type):
                name = f"{prefix}{field.name.upper()}"
                if isinstance(field.type, type) and issubclass(field.type, msgspec.Struct):
                    subs = msgspec.structs.fields(field.type)
                    names |= {f"{name}_{sub.name.upper()}" for sub in subs}
                else:
                    names.add(name)
    return names


@pytest.mark.parametrize("case", CASES)
def test_every_qlvb_variable_the_chart_sets_is_a_setting_a_service_reads(case: str) -> None:
    anyone = _settings_variable_names()
    docs = render(case)
    config = next(d for d in of_kind(docs, "ConfigMap") if d["metadata"]["name"] == "qlvb-env")
    set_names = set(config["data"])
    for _, template in pod_templates(docs):
        for container in template["spec"]["containers"]:
            set_names |= set(env_of(container))
    unknown = sorted(
        n
        for n in set_names
        if n.startswith("QLVB_")
        and n not in anyone
        and n not in ("QLVB_POSTGRES_SUPERUSER_URL", "QLVB_BOOTSTRAP_CREATE_DATABASE")
    )
    assert unknown == []


def test_the_services_listen_on_all_interfaces_at_the_probed_port() -> None:
    docs = render("production")
    config = next(d for d in of_kind(docs, "ConfigMap") if d["metadata"]["name"] == "qlvb-env")
    for service in SERVICES:
        assert config["data"][f"QLVB_{service.upper()}_HOST"] == "0.0.0.0"  # noqa: S104
        assert config["data"][f"QLVB_{service.upper()}_PORT"] == "8000"
    assert config["data"]["QLVB_TELEMETRY_EXPORTER"] == "otlp"
    assert config["data"]["QLVB_DOCS_IDENTITY_URL"] == "http://qlvb-identity.qlvb.svc:80"
    assert config["data"]["QLVB_DOCS_STORAGE_URL"] == "http://qlvb-storage.qlvb.svc:80"
    assert config["data"]["QLVB_WEB_PUBLIC_URL"] == "https://qlvb.example.gov.vn"
    assert config["data"]["QLVB_WEB_COOKIE_SECURE"] == "true"


# Every service answers these itself; through the Ingress they reach docs, which is enough.
SHARED_PATHS = re.compile(r"^/(health|ready|schema|api/v1/whoami)(/|$)")


def _served_paths() -> dict[str, set[str]]:
    """The route templates each service's app serves, from the apps themselves."""
    found: dict[str, set[str]] = {}
    for service in SERVICES:
        app = importlib.import_module(f"services.{service}.app").create_app()
        found[service] = {r.path for r in app.routes if not SHARED_PATHS.match(r.path)}
    return found


# Routes that two services serve under the same prefix, which path-prefix routing cannot split:
# interchange's delivery status of an outgoing document lives under docs' /api/v1/outgoing.
# Through the Ingress these reach docs; see docs/operations.md, Known limits.
PREFIX_CONFLICTS = {"/api/v1/outgoing/{outgoing_id:uuid}/recipients"}


def test_the_ingress_sends_every_route_to_the_service_that_serves_it() -> None:
    docs = render("production")
    (ingress,) = of_kind(docs, "Ingress")
    (rule,) = ingress["spec"]["rules"]
    routes = {p["path"]: p["backend"]["service"]["name"] for p in rule["http"]["paths"]}
    assert len(routes) == len(rule["http"]["paths"]), "a path is routed twice"
    checked = 0
    for service, paths in _served_paths().items():
        for path in paths - PREFIX_CONFLICTS:
            # Prefix matching is by whole path elements; the longest prefix wins.
            matches = [p for p in routes if p == "/" or path == p or path.startswith(p + "/")]
            longest = max(matches, key=len)
            assert routes[longest] == f"qlvb-{service}", f"{path} goes to {routes[longest]}"
            checked += 1
    assert checked >= 30
    assert ingress["spec"]["tls"][0]["hosts"] == [rule["host"]]


@pytest.mark.parametrize("case", ["production", "all-on"])
def test_monitoring_objects_are_well_formed(case: str) -> None:
    docs = render(case)
    (monitor,) = of_kind(docs, "ServiceMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    endpoint = monitor["spec"]["endpoints"][0]
    assert endpoint["port"]
    assert endpoint["honorLabels"] is True
    assert monitor["spec"]["selector"]["matchLabels"]
    (rule,) = of_kind(docs, "PrometheusRule")
    for group in rule["spec"]["groups"]:
        assert group["name"]
        assert group["rules"]
        for alert in group["rules"]:
            assert re.match(r"^Qlvb[A-Z][A-Za-z]+$", alert["alert"])
            assert alert["expr"].strip()
            assert alert["labels"]["severity"] in ("warning", "critical")
            assert alert["annotations"]["summary"]
            assert alert["expr"].count("(") == alert["expr"].count(")")


def _values(case: str) -> Doc:
    """The values a case renders with, merged as Helm merges them (maps deep, lists replaced)."""
    merged: Doc = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    for value in CASES[case]:
        if value.startswith("--set="):
            path, _, raw = value.removeprefix("--set=").partition("=")
            *parents, leaf = path.split(".")
            node = merged
            for key in parents:
                node = node[key]
            node[leaf] = yaml.safe_load(raw)
        elif value != "values.yaml":
            _merge(merged, yaml.safe_load((CHART / value).read_text(encoding="utf-8")))
    return merged


def _merge(base: Doc, override: Doc) -> None:
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value
