# syntax=docker/dockerfile:1
# The one QLVB image: every process is `qlvb <command> <service>` (services/cli.py), so the chart
# (charts/qlvb) runs it with args such as `serve docs`, `relay docs`, `worker storage`,
# `consume docs` and `migrate identity`.
#
#   docker build -t qlvb:$(git describe --always) .
#
# Debian's own Python 3.11 (bookworm) in both stages: the virtual environment built in the first
# stage points at /usr/bin/python3.11, which the runtime stage has at the same path, and Debian
# ships its security fixes. uv is pinned to devstack/versions.env (UV_VERSION) and installs
# exactly uv.lock (--frozen), without the dev group.

ARG DEBIAN_IMAGE=debian:bookworm-slim

FROM ${DEBIAN_IMAGE} AS build
ARG UV_VERSION=0.13.9
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3.11 python3.11-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# uv from PyPI, as devstack/stack.sh installs it.
RUN python3.11 -m venv /opt/uv \
 && /opt/uv/bin/pip install --no-cache-dir "uv==${UV_VERSION}"
ENV UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON=/usr/bin/python3.11 \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy
WORKDIR /src
# Dependencies first: this layer is rebuilt only when the lock changes.
COPY pyproject.toml uv.lock ./
RUN /opt/uv/bin/uv sync --frozen --no-dev --no-install-project
# Then the project itself, installed as a wheel (not editable): the runtime has no /src.
COPY README.md ./
COPY services ./services
RUN /opt/uv/bin/uv sync --frozen --no-dev --no-editable \
 && /app/.venv/bin/qlvb --help >/dev/null

FROM ${DEBIAN_IMAGE} AS runtime
# ocrmypdf with Tesseract's Vietnamese data, pinned as in devstack/versions.env: OCR of scanned
# documents runs in the docs worker (services/docs/files/ocr.py). The Liberation fonts draw the
# signature stamps, reports and dossier packages with every Vietnamese letter
# (services/docs/signing/fonts.py). Nothing else outside the venv is needed at run time.
ARG OCRMYPDF_DEBIAN_VERSION=14.0.*
ARG TESSERACT_VIE_DEBIAN_VERSION=1:4.1.*
ARG FONTS_LIBERATION_DEBIAN_VERSION=2.1.*
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3.11 ca-certificates \
      "ocrmypdf=${OCRMYPDF_DEBIAN_VERSION}" "tesseract-ocr-vie=${TESSERACT_VIE_DEBIAN_VERSION}" \
      "fonts-liberation2=${FONTS_LIBERATION_DEBIAN_VERSION}" \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 qlvb \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin qlvb
COPY --from=build /app/.venv /app/.venv
# The root filesystem is read-only in the cluster: temporary files (upload spools, OCR) go to
# /tmp, an emptyDir the chart mounts; HOME points there too for libraries that want a cache.
ENV PATH=/app/.venv/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TMPDIR=/tmp \
    HOME=/tmp
WORKDIR /app
# Numeric, so that Kubernetes can check runAsNonRoot without reading /etc/passwd.
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["qlvb"]
CMD ["--help"]
