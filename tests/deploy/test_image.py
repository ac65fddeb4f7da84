"""The Dockerfile builds the image the chart runs: pinned, multi-stage, non-root, `qlvb` as its
entry point. No container engine runs here, so its build step is reproduced: `uv sync --frozen
--no-dev --no-editable` on exactly the files the build context lets in."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import yaml

from devstack.environment import read_env_file
from tests.deploy.chart import CHART, REPO, cache_dir

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
VERSIONS = read_env_file(REPO / "devstack" / "versions.env")


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _stages() -> dict[str, list[tuple[str, str]]]:
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for word, rest in _instructions():
        if word == "FROM":
            current = []
            stages[rest.split(" AS ")[-1].strip()] = current
        current.append((word, rest))
    return stages


def _arg_default(name: str) -> str:
    (value,) = (r.split("=", 1)[1] for w, r in _instructions() if w == "ARG" and r.startswith(name))
    return value


def test_the_image_is_built_in_stages_from_a_pinned_debian() -> None:
    stages = _stages()
    assert list(stages) == ["build", "runtime"]
    assert _arg_default("DEBIAN_IMAGE") == "debian:bookworm-slim"
    for stage in stages.values():
        assert stage[0][1].startswith("${DEBIAN_IMAGE}")
    runtime = stages["runtime"]
    copies = [r for w, r in runtime if w == "COPY"]
    assert copies == ["--from=build /app/.venv /app/.venv"], "the runtime gets the venv only"


def test_the_build_installs_exactly_the_lock_without_dev_tools() -> None:
    runs = [r for w, r in _stages()["build"] if w == "RUN"]
    syncs = [r for r in runs if "uv sync" in r]
    assert len(syncs) == 2
    for sync in syncs:
        assert "--frozen" in sync
        assert "--no-dev" in sync
    assert "--no-editable" in syncs[-1]
    assert _arg_default("UV_VERSION") == VERSIONS["UV_VERSION"]


def test_the_runtime_pins_the_ocr_packages_of_the_local_stack() -> None:
    assert _arg_default("OCRMYPDF_DEBIAN_VERSION") == VERSIONS["OCRMYPDF_DEBIAN_VERSION"]
    assert (
        _arg_default("FONTS_LIBERATION_DEBIAN_VERSION")
        == VERSIONS["FONTS_LIBERATION_DEBIAN_VERSION"]
    )
    assert _arg_default("TESSERACT_VIE_DEBIAN_VERSION") == VERSIONS["TESSERACT_VIE_DEBIAN_VERSION"]


def test_the_image_runs_qlvb_as_the_non_root_user_the_chart_expects() -> None:
    runtime = dict((w, r) for w, r in _stages()["runtime"] if w in ("USER", "ENTRYPOINT", "EXPOSE"))
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    pod = values["podSecurityContext"]
    assert runtime["USER"] == f"{pod['runAsUser']}:{pod['runAsGroup']}"
    assert runtime["ENTRYPOINT"] == '["qlvb"]'
    assert runtime["EXPOSE"] == str(values["containerPort"])
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert scripts["scripts"]["qlvb"] == "services.cli:main"


def _context(target: Path) -> None:
    """Copy what .dockerignore lets into the build context (it ignores all, then allows)."""
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    rules = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert rules[0] == "*", ".dockerignore must start from nothing and allow what the build needs"
    for rule in rules[1:]:
        if not rule.startswith("!"):
            continue
        source = REPO / rule[1:].rstrip("/")
        if source.is_dir():
            shutil.copytree(
                source, target / source.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
            )
        else:
            shutil.copy2(source, target / source.name)


def test_the_build_step_yields_a_working_qlvb_without_dev_tools(tmp_path: Path) -> None:
    context = tmp_path / "src"
    context.mkdir()
    _context(context)
    venv = tmp_path / "venv"
    uv = cache_dir() / "tools" / f"uv-{VERSIONS['UV_VERSION']}" / "bin" / "uv"
    assert uv.is_file(), f"{uv} is missing: `devstack/stack.sh install` installs it"
    env = {
        **os.environ,
        "UV_PROJECT_ENVIRONMENT": str(venv),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_OFFLINE": "1",  # the packages are in uv's cache since the stack's install
        "VIRTUAL_ENV": "",
    }
    result = subprocess.run(
        [str(uv), "sync", "--frozen", "--no-dev", "--no-editable", "--quiet"],
        cwd=context,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    help_text = subprocess.run(
        [str(venv / "bin" / "qlvb"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    for command in ("serve", "migrate", "relay", "worker", "consume"):
        assert command in help_text
    site = next((venv / "lib").glob("python3.*/site-packages"))
    for service in ("identity", "storage", "docs", "interchange"):
        assert (site / "services" / service / "migrations" / "script.py.mako").is_file()
    for dev_tool in ("pytest", "ruff", "mypy", "hypothesis"):
        assert not (venv / "bin" / dev_tool).exists(), f"{dev_tool} is in the image"
