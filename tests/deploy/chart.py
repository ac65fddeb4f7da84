"""Rendering charts/qlvb with the Helm the local stack builds, and reading what it renders.

Helm is pinned in devstack/versions.env and built by `devstack/stack.sh install` (which `make
test` runs) into the same cache as MinIO; these tests never download anything."""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from devstack.environment import read_env_file

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "qlvb"
SERVICES = ("identity", "storage", "docs", "interchange")
KINDS = ("api", "relay", "worker", "consumer")
# The Kubernetes version the chart is rendered for and validated against, offline
# (kubernetes-validate ships the schemas). The chart itself asks for >= 1.28.
KUBE_VERSION = "1.33.0"
RELEASE = "qlvb"
NAMESPACE = "qlvb"

# What the tests render: each values file, and the development values with every optional
# part switched on, so that every template is rendered at least once.
ALL_ON = (
    "values-dev.yaml",
    *(f"--set=services.{s}.{k}.enabled=true" for s in SERVICES for k in ("worker", "consumer")),
    *(f"--set=services.{s}.api.autoscaling.enabled=true" for s in SERVICES),
    "--set=metrics.serviceMonitor.enabled=true",
    "--set=metrics.prometheusRule.enabled=true",
    "--set=ingress.tls.enabled=true",
    "--set=ingress.tls.secretName=qlvb-tls",
)
CASES: dict[str, tuple[str, ...]] = {
    "defaults": ("values.yaml",),
    "dev": ("values-dev.yaml",),
    "production": ("values-production.yaml",),
    "all-on": ALL_ON,
}

Doc = dict[str, Any]


def cache_dir() -> Path:
    """Where devstack/stack.sh keeps its downloads and builds (its `cache` variable)."""
    default_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "qlvb"
    return Path(os.environ.get("QLVB_CACHE_DIR") or default_cache)


def helm_binary() -> Path:
    """The Helm that devstack/stack.sh builds: <cache>/helm-<HELM_VERSION>/helm."""
    versions = read_env_file(REPO / "devstack" / "versions.env")
    return cache_dir() / f"helm-{versions['HELM_VERSION']}" / "helm"


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    binary = helm_binary()
    if not binary.is_file():
        raise AssertionError(f"{binary} is missing: `devstack/stack.sh install` builds it")
    return subprocess.run(
        [str(binary), *args], capture_output=True, text=True, timeout=120, check=False
    )


def template_args(values: tuple[str, ...]) -> list[str]:
    args = ["template", RELEASE, str(CHART), "--namespace", NAMESPACE, "--kube-version"]
    args.append(KUBE_VERSION)
    for value in values:
        args.append(value if value.startswith("--") else f"--values={CHART / value}")
    return args


@functools.cache
def render(case: str) -> tuple[Doc, ...]:
    result = helm(*template_args(CASES[case]))
    assert result.returncode == 0, result.stderr
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def render_failure(values_files: list[Path], *sets: str) -> str:
    """Helm's error text for values that must be refused."""
    result = helm(*template_args((*(f"--values={p}" for p in values_files), *sets)))
    assert result.returncode != 0, "helm template accepted values it should refuse"
    return result.stderr


def of_kind(docs: tuple[Doc, ...], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def pod_templates(docs: tuple[Doc, ...]) -> Iterator[tuple[Doc, Doc]]:
    """(workload, pod template) for every Deployment and Job."""
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            yield doc, doc["spec"]["template"]


def hook_weight(doc: Doc) -> int:
    return int(doc["metadata"].get("annotations", {}).get("helm.sh/hook-weight", "0"))


def selects(selector: Doc, labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels and matchExpressions)."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def env_of(container: Doc) -> dict[str, Doc]:
    return {entry["name"]: entry for entry in container.get("env", [])}
