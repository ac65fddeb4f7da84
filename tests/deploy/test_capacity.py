"""docs/scaling.md states what values-production.yaml renders: the pods and requests of a
province, and the worst case of PostgreSQL connections against the max_connections it asks for.
When the values or the pools in the code change, these figures must be recomputed."""

from __future__ import annotations

import re

from tests.deploy.chart import REPO, Doc, of_kind, render

SCALING = " ".join((REPO / "docs" / "scaling.md").read_text(encoding="utf-8").split())

# Connections one pod may hold: twice its pool (pool + overflow, services/common/db.py).
SAQ_CONCURRENCY = 10  # services/common/worker.py: make_worker(concurrency=10)
MAINTENANCE_POOL = 2  # the relay-role pool of the worker jobs (docs, storage, interchange)
CONSUMER_POOL = 4  # services/cli.py: consume
RELAY_POOL = 2  # services/cli.py: relay
PER_POD = {
    "worker": 2 * SAQ_CONCURRENCY + 2 * MAINTENANCE_POOL + 2 * MAINTENANCE_POOL,
    "consumer": 2 * CONSUMER_POOL + 2 * MAINTENANCE_POOL,
    "relay": 2 * RELAY_POOL,
}
MIGRATION = 2


def _cpu(value: str) -> float:
    return float(value[:-1]) / 1000 if value.endswith("m") else float(value)


def _mebibytes(value: str) -> float:
    return float(value[:-2]) * {"Mi": 1, "Gi": 1024}[value[-2:]]


def _replicas(deployment: Doc, hpas: dict[str, Doc], worst: bool) -> int:
    hpa = hpas.get(deployment["metadata"]["name"])
    if hpa is None:
        return int(deployment["spec"]["replicas"])
    return int(hpa["spec"]["maxReplicas" if worst else "minReplicas"])


def test_the_code_still_sizes_its_pools_as_the_model_assumes() -> None:
    db = (REPO / "services" / "common" / "db.py").read_text(encoding="utf-8")
    assert "max_overflow=pool_size" in db
    worker = (REPO / "services" / "common" / "worker.py").read_text(encoding="utf-8")
    assert f"concurrency: int = {SAQ_CONCURRENCY}" in worker
    cli = (REPO / "services" / "cli.py").read_text(encoding="utf-8")
    assert re.search(rf"database_url, pool_size={CONSUMER_POOL}\)", cli)
    assert re.search(rf"relay_database_url, pool_size={RELAY_POOL}\)", cli)


def test_the_scaling_guide_states_the_production_pods_and_requests() -> None:
    docs = render("production")
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(docs, "HorizontalPodAutoscaler")
    }
    pods = 0
    requests = {"cpu": 0.0, "memory": 0.0}
    limits = {"cpu": 0.0, "memory": 0.0}
    for deployment in of_kind(docs, "Deployment"):
        replicas = _replicas(deployment, hpas, worst=False)
        pods += replicas
        resources = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]
        for totals, part in ((requests, "requests"), (limits, "limits")):
            totals["cpu"] += replicas * _cpu(str(resources[part]["cpu"]))
            totals["memory"] += replicas * _mebibytes(resources[part]["memory"]) / 1024
    stated = (
        f"{pods} pods, {requests['cpu']:.2f} CPU and {requests['memory']:.2f} GiB requested** "
        f"(limits: {limits['cpu']:.1f} CPU, {limits['memory']:.1f} GiB)"
    )
    assert stated in SCALING


def test_the_worst_case_of_connections_fits_the_postgresql_the_guide_asks_for() -> None:
    docs = render("production")
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h for h in of_kind(docs, "HorizontalPodAutoscaler")
    }
    (config,) = (d for d in of_kind(docs, "ConfigMap") if d["metadata"]["name"] == "qlvb-env")
    total = MIGRATION
    for deployment in of_kind(docs, "Deployment"):
        labels = deployment["metadata"]["labels"]
        service, kind = labels["qlvb.gov.vn/service"], labels["app.kubernetes.io/component"]
        if kind == "api":
            pool = int(config["data"].get(f"QLVB_{service.upper()}_DATABASE_POOL_SIZE", "10"))
            per_pod = 2 * pool
        else:
            per_pod = PER_POD[kind]
        # Every HPA at its maximum, one surge pod per Deployment during a rollout.
        total += (_replicas(deployment, hpas, worst=True) + 1) * per_pod
    (max_connections,) = {int(m) for m in re.findall(r"max_connections = (\d+)", SCALING)}
    assert f"**{total}**, within `max_connections = {max_connections}`" in SCALING
    assert total <= max_connections - 20, "keep room for the superuser and the operator"
