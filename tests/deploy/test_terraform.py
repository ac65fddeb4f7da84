"""terraform/: formatted, parseable, and in step with what the local stack and the chart use.

No provider can be downloaded here and the machine's plugin mirror (/opt/tf-plugins) has none
of keycloak, minio, helm or kubernetes, so `terraform validate` cannot run: the checks are
`terraform fmt`, a full HCL parse, and comparisons of the parsed configuration with
devstack/keycloak/qlvb-realm.json, devstack/bootstrap_minio.py and the rendered chart."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest

from devstack.bootstrap_minio import BUCKETS
from tests.deploy.chart import REPO, SERVICES, env_of, of_kind, render

TERRAFORM = REPO / "terraform"
MODULES = TERRAFORM / "modules"
EXAMPLE = TERRAFORM / "environments" / "example"
REALM_FILE = REPO / "devstack" / "keycloak" / "qlvb-realm.json"
TF_FILES = sorted(TERRAFORM.rglob("*.tf"))


def _clean(value: Any) -> Any:
    """python-hcl2 keeps the quotes of strings and labels; drop them and its block markers."""
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return value[1:-1]
        return value
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items() if k != "__is_block__"}
    return value


def parse(path: Path) -> dict[str, Any]:
    parsed: dict[str, Any] = _clean(hcl2.loads(path.read_text(encoding="utf-8")))
    return parsed


def module(name: str) -> dict[str, Any]:
    """The blocks of every file of a module (or environment), merged by block type."""
    merged: dict[str, list[Any]] = {}
    directory = MODULES / name if (MODULES / name).is_dir() else TERRAFORM / name
    for path in sorted(directory.glob("*.tf")):
        for block_type, blocks in parse(path).items():
            merged.setdefault(block_type, []).extend(blocks)
    return merged


def resources(parsed: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for block in parsed.get("resource", []):
        for name, body in block.get(resource_type, {}).items():
            found[name] = body
    return found


def locals_of(parsed: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for block in parsed.get("locals", []):
        values.update(block)
    return values


def variables_of(parsed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: body for block in parsed.get("variable", []) for name, body in block.items()}


def test_terraform_files_are_formatted() -> None:
    binary = shutil.which("terraform") or "/usr/local/bin/terraform"
    assert Path(binary).exists(), "terraform is part of the machine image (/usr/local/bin)"
    result = subprocess.run(
        [binary, "fmt", "-check", "-recursive", "-diff", str(TERRAFORM)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", TF_FILES, ids=lambda p: str(p.relative_to(TERRAFORM)))
def test_every_file_parses(path: Path) -> None:
    assert parse(path)


@pytest.mark.parametrize(
    "name", ["keycloak-realm", "minio-buckets", "qlvb-release", "environments/example"]
)
def test_every_module_pins_terraform_and_its_providers(name: str) -> None:
    parsed = module(name)
    (settings,) = parsed["terraform"]
    assert settings["required_version"].startswith(">=")
    for providers in settings["required_providers"]:
        for provider, spec in providers.items():
            assert "/" in spec["source"], provider
            assert re.match(r"^~> \d+\.\d+$", spec["version"]), f"{provider}: {spec['version']}"


def test_operators_have_a_readme_and_an_example_of_variables() -> None:
    readme = (TERRAFORM / "README.md").read_text(encoding="utf-8")
    for module_name in ("keycloak-realm", "minio-buckets", "qlvb-release"):
        assert module_name in readme
    assert (EXAMPLE / "terraform.tfvars.example").is_file()
    example = variables_of(module("environments/example"))
    tfvars = (EXAMPLE / "terraform.tfvars.example").read_text(encoding="utf-8")
    for name, body in example.items():
        if "default" in body or body.get("sensitive"):
            continue
        assert re.search(rf"^{name}\s*=", tfvars, re.MULTILINE), f"{name} missing in the example"


# --------------------------------------------------------------------------- the realm
def _realm() -> dict[str, Any]:
    realm: dict[str, Any] = json.loads(REALM_FILE.read_text(encoding="utf-8"))
    return realm


def _production_clients() -> list[dict[str, Any]]:
    return [c for c in _realm()["clients"] if "never in production" not in c.get("name", "")]


def _duration_seconds(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([smh])", text))


def test_the_realm_module_has_the_realm_files_clients_and_no_test_clients() -> None:
    parsed = module("keycloak-realm")
    services = locals_of(parsed)["services"]
    service_clients = {c["clientId"] for c in _production_clients() if c["serviceAccountsEnabled"]}
    assert {f"qlvb-{s}" for s in services} == service_clients
    web = resources(parsed, "keycloak_openid_client")["web"]
    assert web["client_id"] == "qlvb-web"
    (realm_web,) = (c for c in _realm()["clients"] if c["clientId"] == "qlvb-web")
    assert (
        web["pkce_code_challenge_method"] == realm_web["attributes"]["pkce.code.challenge.method"]
    )
    assert web["standard_flow_enabled"] is realm_web["standardFlowEnabled"]
    assert web["direct_access_grants_enabled"] is False
    assert web["web_origins"] == realm_web["webOrigins"]
    clients = resources(parsed, "keycloak_openid_client")
    assert set(clients) == {"service", "web"}
    assert clients["service"]["client_id"] == "qlvb-${each.key}"
    made = {f"qlvb-{s}" for s in services} | {web["client_id"]}
    assert made == {c["clientId"] for c in _production_clients()}


def test_the_web_clients_urls_are_the_identity_services_login_routes() -> None:
    web = resources(module("keycloak-realm"), "keycloak_openid_client")["web"]
    login = (REPO / "services" / "identity" / "login" / "controller.py").read_text(encoding="utf-8")
    assert web["valid_redirect_uris"] == ["${var.public_url}/auth/callback"]
    assert '"/callback"' in login
    assert '"/backchannel-logout"' in login
    assert "/auth/backchannel-logout" in web["backchannel_logout_url"]


def test_every_token_client_gets_the_realm_files_mappers() -> None:
    parsed = module("keycloak-realm")
    services = locals_of(parsed)["services"]
    audience = resources(parsed, "keycloak_openid_audience_protocol_mapper")["audience"]
    memberships = resources(parsed, "keycloak_openid_user_attribute_protocol_mapper")["memberships"]
    full_name = resources(parsed, "keycloak_openid_full_name_protocol_mapper")["full_name"]
    for client in _production_clients():
        mappers = {m["name"]: m for m in client["protocolMappers"]}
        audiences = {
            m["config"]["included.client.audience"]
            for m in mappers.values()
            if m["protocolMapper"] == "oidc-audience-mapper"
        }
        assert audiences == {f"qlvb-{s}" for s in services}, client["clientId"]
        assert set(mappers) == {f"audience-qlvb-{s}" for s in services} | {
            "memberships",
            "full name",
        }
        # Audience mappers are made per (client, service) with the file's names and flags.
        config = mappers["audience-qlvb-docs"]["config"]
        assert audience["name"] == "audience-qlvb-${each.value.audience}"
        assert audience["add_to_access_token"] is (config["access.token.claim"] == "true")
        assert audience["add_to_id_token"] is (config["id.token.claim"] == "true")
        config = mappers["memberships"]["config"]
        assert memberships["user_attribute"] == config["user.attribute"]
        assert memberships["claim_name"] == config["claim.name"]
        assert memberships["claim_value_type"] == config["jsonType.label"]
        assert memberships["multivalued"] is (config["multivalued"] == "true")
        assert memberships["aggregate_attributes"] is (config["aggregate.attrs"] == "true")
        assert memberships["add_to_access_token"] is (config["access.token.claim"] == "true")
        assert full_name["name"] == "full name"
    # One of each per token client: the four services and the web client.
    assert audience["for_each"] == "${local.audience_mappers}"
    assert memberships["for_each"] == full_name["for_each"] == "${local.token_clients}"


def test_the_realm_module_has_the_realm_files_roles_settings_and_user_profile() -> None:
    parsed = module("keycloak-realm")
    realm = _realm()
    roles = resources(parsed, "keycloak_role")
    assert {r["name"] for r in roles.values()} == {r["name"] for r in realm["roles"]["realm"]}
    (service_account,) = realm["users"]
    assert (
        locals_of(parsed)["identity_admin_roles"]
        == (service_account["clientRoles"]["realm-management"])
    )
    settings = resources(parsed, "keycloak_realm")["this"]
    variables = variables_of(parsed)
    assert settings["ssl_required"] == realm["sslRequired"]
    for key in (
        "registrationAllowed",
        "loginWithEmailAllowed",
        "duplicateEmailsAllowed",
        "resetPasswordAllowed",
        "editUsernameAllowed",
    ):
        snake = re.sub(r"([A-Z])", r"_\1", key).lower()
        assert settings[snake] is realm[key], key
    for key, variable in (
        ("accessTokenLifespan", "access_token_lifespan"),
        ("ssoSessionIdleTimeout", "sso_session_idle_timeout"),
        ("ssoSessionMaxLifespan", "sso_session_max_lifespan"),
    ):
        assert _duration_seconds(variables[variable]["default"]) == realm[key], key
    assert variables["password_policy"]["default"] == realm["passwordPolicy"]
    (i18n,) = settings["internationalization"]
    assert i18n["supported_locales"] == realm["supportedLocales"]
    assert i18n["default_locale"] == realm["defaultLocale"]
    (component,) = realm["components"]["org.keycloak.userprofile.UserProfileProvider"]
    profile_config = json.loads(component["config"]["kc.user.profile.config"][0])
    profile = resources(parsed, "keycloak_realm_user_profile")["this"]
    assert profile["unmanaged_attribute_policy"] == profile_config["unmanagedAttributePolicy"]
    attributes = {a["name"]: a for a in profile["attribute"]}
    assert list(attributes) == [a["name"] for a in profile_config["attributes"]]
    for expected in profile_config["attributes"]:
        attribute = attributes[expected["name"]]
        assert attribute.get("multi_valued", False) is expected.get("multivalued", False)
        (permissions,) = attribute["permissions"]
        assert permissions == expected["permissions"], expected["name"]
        assert {v["name"] for v in attribute["validator"]} == set(expected["validations"])


# --------------------------------------------------------------------------- the buckets
def test_the_bucket_module_creates_the_devstacks_production_buckets() -> None:
    parsed = module("minio-buckets")
    variables = variables_of(parsed)
    buckets = resources(parsed, "minio_s3_bucket")
    locked = {
        variables["files_bucket"]["default"]: buckets["files"]["object_locking"],
        variables["locked_bucket"]["default"]: buckets["issued"]["object_locking"],
    }
    expected = {name: lock for name, lock in BUCKETS.items() if "-test-" not in name}
    assert locked == expected
    for bucket in buckets.values():
        assert bucket["acl"] == "private"
        assert bucket["force_destroy"] is False
    values = render("defaults")
    (config,) = (d for d in of_kind(values, "ConfigMap") if d["metadata"]["name"] == "qlvb-env")
    assert config["data"]["QLVB_STORAGE_BUCKET"] == variables["files_bucket"]["default"]
    assert config["data"]["QLVB_STORAGE_LOCKED_BUCKET"] == variables["locked_bucket"]["default"]


def test_the_storage_policy_grants_retention_but_never_bypasses_it() -> None:
    parsed = module("minio-buckets")
    policy = resources(parsed, "minio_iam_policy")["storage"]["policy"]
    for action in ("s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:PutObjectRetention"):
        assert action in policy
    assert "BypassGovernanceRetention" not in policy
    assert '"s3:*"' not in policy


# --------------------------------------------------------------------------- the release
def test_the_example_environment_fills_every_key_the_production_chart_reads() -> None:
    parsed = module("environments/example")
    local_values = locals_of(parsed)
    services = local_values["services"]
    assert sorted(services) == sorted(SERVICES)
    keys = {
        f"QLVB_{s.upper()}_{infix}DATABASE_URL"
        for s in services
        for infix in local_values["role_kinds"].values()
    }
    keys |= {f"QLVB_{s.upper()}_CLIENT_SECRET" for s in services}
    keys |= set(re.findall(r"(QLVB_[A-Z0-9_]+)\s*=", local_values["secret_values"]))
    read: set[str] = set()
    for doc in render("production"):
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        for container in doc["spec"]["template"]["spec"]["containers"]:
            for entry in env_of(container).values():
                ref = entry.get("valueFrom", {}).get("secretKeyRef")
                if ref and ref["name"] == "qlvb-secrets":
                    read.add(ref["key"])
    assert read <= keys, sorted(read - keys)
    release = resources(module("qlvb-release"), "kubernetes_secret_v1")["qlvb"]
    assert variables_of(module("qlvb-release"))["secret_name"]["default"] == "qlvb-secrets"
    assert release["data"] == "${var.secret_values}"


def test_the_example_environment_points_at_this_repositorys_chart() -> None:
    (release,) = (m["release"] for m in module("environments/example")["module"] if "release" in m)
    chart = release["chart_path"].replace("${path.root}", str(EXAMPLE))
    assert (Path(chart) / "Chart.yaml").resolve().is_file()
    for values_file in release["values_files"]:
        assert Path(values_file.replace("${path.root}", str(EXAMPLE))).resolve().is_file()
