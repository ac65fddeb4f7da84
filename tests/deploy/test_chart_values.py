"""Bad values are refused before anything reaches a cluster, each with a message that names the
value and what would be right: values.schema.json for shapes, qlvb.validate for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.deploy.chart import CHART, render_failure

PRODUCTION = CHART / "values-production.yaml"
DEV = CHART / "values-dev.yaml"

# (values on top of the production file, words the error must contain)
REFUSALS: dict[str, tuple[dict[str, object], list[str]]] = {
    "negative replicas": (
        {"services": {"docs": {"api": {"replicaCount": -1}}}},
        ["/services/docs/api/replicaCount", "minimum"],
    ),
    "a pull policy Kubernetes does not know": (
        {"image": {"pullPolicy": "Sometimes"}},
        ["/image/pullPolicy", "'Always', 'IfNotPresent', 'Never'"],
    ),
    "an unquoted numeric tag": (
        {"image": {"tag": 1.0}},
        ["/image/tag", "want string"],
    ),
    "a misspelt top-level key": (
        {"servics": {"docs": {}}},
        ["additional properties 'servics' not allowed"],
    ),
    "a misspelt key inside a service": (
        {"services": {"docs": {"api": {"replicas": 3}}}},
        ["/services/docs/api", "additional properties 'replicas' not allowed"],
    ),
    "a container without a memory limit": (
        {"services": {"storage": {"api": {"resources": {"limits": {"memory": None}}}}}},
        ["/services/storage/api/resources/limits", "missing property 'memory'"],
    ),
    "a writable root filesystem": (
        {"containerSecurityContext": {"readOnlyRootFilesystem": False}},
        ["/containerSecurityContext/readOnlyRootFilesystem", "value must be true"],
    ),
    "running as root": (
        {"podSecurityContext": {"runAsNonRoot": False}},
        ["/podSecurityContext/runAsNonRoot", "value must be true"],
    ),
    "a call to a service that does not exist": (
        {"services": {"docs": {"calls": ["printing"]}}},
        ["/services/docs/calls/0", "'identity', 'storage', 'docs', 'interchange'"],
    ),
    "another service's setting in a service's env": (
        {"services": {"docs": {"env": {"QLVB_STORAGE_BUCKET": "x"}}}},
        ["QLVB_STORAGE_BUCKET", "^QLVB_DOCS_"],
    ),
    "an unknown object lock mode": (
        {"config": {"s3": {"lockMode": "NONE"}}},
        ["/config/s3/lockMode", "'COMPLIANCE', 'GOVERNANCE'"],
    ),
    "a sample ratio above one": (
        {"config": {"telemetry": {"sampleRatio": 2}}},
        ["/config/telemetry/sampleRatio", "maximum"],
    ),
    "an issuer that is not a realm URL": (
        {"config": {"oidc": {"issuer": "sso.example.gov.vn"}}},
        ["/config/oidc/issuer", "does not match pattern"],
    ),
    "an ingress host with a scheme": (
        {"ingress": {"host": "https://qlvb.example.gov.vn"}},
        ["/ingress/host", "does not match pattern"],
    ),
    "a privileged container port": (
        {"containerPort": 80},
        ["/containerPort", "minimum"],
    ),
    "production without an existing Secret": (
        {"secrets": {"existingSecret": ""}},
        ["secrets.existingSecret is required when environment is production"],
    ),
    "latest in production": (
        {"image": {"tag": "latest"}},
        ['image.tag "latest" is refused in production', "pin a version"],
    ),
    "no issuer": (
        {"config": {"oidc": {"issuer": ""}}},
        ["config.oidc.issuer is required"],
    ),
    "an S3 endpoint with a scheme": (
        {"config": {"s3": {"endpoint": "https://minio.example.gov.vn:9000"}}},
        ["config.s3.endpoint must be host:port without a scheme", "config.s3.secure"],
    ),
    "no ingress host": (
        {"ingress": {"host": ""}},
        ["ingress.host is required while ingress.enabled is true"],
    ),
    "a call to a disabled service": (
        {"services": {"storage": {"enabled": False}}},
        ["services.docs.calls names storage, whose API is disabled"],
    ),
    "one path routed to two services": (
        {"services": {"storage": {"ingressPaths": ["/files", "/auth"]}}},
        ["the ingress path /auth is claimed by both services.identity and services.storage"],
    ),
    "autoscaling bounds upside down": (
        {"services": {"docs": {"api": {"autoscaling": {"minReplicas": 9, "maxReplicas": 3}}}}},
        ["services.docs.api.autoscaling.minReplicas (9) is above maxReplicas (3)"],
    ),
}


@pytest.mark.parametrize("name", REFUSALS)
def test_bad_values_are_refused_with_a_clear_message(name: str, tmp_path: Path) -> None:
    override, words = REFUSALS[name]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(override), encoding="utf-8")
    error = render_failure([PRODUCTION, bad])
    for word in words:
        assert word in error, error


def test_development_secrets_must_hold_every_key_the_pods_read(tmp_path: Path) -> None:
    values = yaml.safe_load(DEV.read_text(encoding="utf-8"))
    secrets = values["secrets"]["values"]
    del secrets["QLVB_DOCS_CLIENT_SECRET"]
    del secrets["QLVB_S3_SECRET_KEY"]
    bad = tmp_path / "dev.yaml"
    bad.write_text(yaml.safe_dump(values), encoding="utf-8")
    error = render_failure([bad])
    assert "secrets.values lacks QLVB_DOCS_CLIENT_SECRET, QLVB_S3_SECRET_KEY" in error
    assert "or set secrets.existingSecret" in error
