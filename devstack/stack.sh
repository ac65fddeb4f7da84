#!/usr/bin/env bash
# The local stack: real PostgreSQL, Redis, MinIO and Keycloak on loopback.
#   devstack/stack.sh install   install whatever is missing (cached outside the clone)
#   devstack/stack.sh start     install, then start every server that is not running
#   devstack/stack.sh stop      stop every server
#   devstack/stack.sh status    one line per server
#   devstack/stack.sh env       print the environment the services and tests use
# Idempotent: every step checks first and does nothing when its work is already done.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=devstack/versions.env
source "$here/versions.env"
# shellcheck source=devstack/ports.env
source "$here/ports.env"
# shellcheck source=devstack/dev.env
source "$here/dev.env"

cache="${QLVB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/qlvb}"
state="${QLVB_STACK_DIR:-$repo/.devstack}"
logs="$state/logs"
run="$state/run"
mkdir -p "$cache" "$logs" "$run"

pg_bin="/usr/lib/postgresql/$PG_MAJOR/bin"
minio_bin="$cache/minio-$MINIO_VERSION/minio"
helm_bin="$cache/helm-$HELM_VERSION/helm"
kc_home="$cache/keycloak-$KEYCLOAK_VERSION"
uv_bin="$cache/tools/uv-$UV_VERSION/bin/uv"
java17="/usr/lib/jvm/java-17-openjdk-amd64"

log() { printf '\033[1;34m[devstack]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[devstack] %s\033[0m\n' "$*" >&2; exit 1; }

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
# PostgreSQL refuses to run as root; on a root machine it runs as the Debian `postgres` user.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port name seconds
  local i
  for ((i = 0; i < $3 * 5; i++)); do port_open "$1" && return 0; sleep 0.2; done
  die "$2 did not open port $1 within $3 s (see $logs/)"
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# --------------------------------------------------------------------------- install
apt_updated=0
apt_install() { # pkg=version-glob ...
  local missing=() spec name
  for spec in "$@"; do
    name="${spec%%=*}"
    dpkg-query -W -f='${Status}' "$name" 2>/dev/null | grep -q "install ok installed" || missing+=("$spec")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ $apt_updated -eq 0 ]; then
    log "apt-get update"
    as_root apt-get update -qq >"$logs/apt-update.log" 2>&1
    apt_updated=1
  fi
  log "apt-get install ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >"$logs/apt-install.log" 2>&1 || die "apt-get install failed: $logs/apt-install.log"
}

install_debian() {
  apt_install "postgresql-$PG_MAJOR=$PG_DEBIAN_VERSION" \
    "redis-server=$REDIS_DEBIAN_VERSION" "softhsm2=$SOFTHSM_DEBIAN_VERSION" \
    opensc poppler-utils unzip
  apt_install "ocrmypdf=$OCRMYPDF_DEBIAN_VERSION" "tesseract-ocr-vie=$TESSERACT_VIE_DEBIAN_VERSION"
  apt_install "fonts-liberation2=$FONTS_LIBERATION_DEBIAN_VERSION" \
    "libnss3-tools=$NSS_TOOLS_DEBIAN_VERSION"
  apt_install "chromium=$CHROMIUM_DEBIAN_VERSION"
  # The Debian package starts its own cluster on 5432 when it can; ours is separate, stop theirs
  # so it does not hold memory in tests.
  if [ -x /usr/bin/pg_ctlcluster ] && pg_lsclusters 2>/dev/null | grep -q "^$PG_MAJOR *main .*online"; then
    as_root pg_ctlcluster "$PG_MAJOR" main stop || true
  fi
}

install_uv() {
  [ -x "$uv_bin" ] && return 0
  log "installing uv $UV_VERSION"
  python3 -m venv "$cache/tools/uv-$UV_VERSION"
  "$cache/tools/uv-$UV_VERSION/bin/pip" install -q "uv==$UV_VERSION"
}

install_minio() {
  [ -x "$minio_bin" ] && return 0
  command -v go >/dev/null || die "Go is needed to build MinIO"
  log "building MinIO $MINIO_VERSION with go install (one time, a few minutes)"
  GOBIN="$cache/minio-$MINIO_VERSION" CGO_ENABLED=0 go install "$MINIO_MODULE@$MINIO_VERSION" \
    >"$logs/minio-build.log" 2>&1 || die "MinIO build failed: $logs/minio-build.log"
}

install_helm() {
  [ -x "$helm_bin" ] && return 0
  command -v go >/dev/null || die "Go is needed to build Helm"
  log "building Helm $HELM_VERSION with go install (one time, a few minutes)"
  GOBIN="$cache/helm-$HELM_VERSION" CGO_ENABLED=0 go install "$HELM_MODULE@$HELM_VERSION" \
    >"$logs/helm-build.log" 2>&1 || die "Helm build failed: $logs/helm-build.log"
}

install_keycloak() {
  [ -f "$kc_home/.qlvb-built" ] && return 0
  local zip="$cache/keycloak/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
  if [ ! -f "$zip" ]; then
    log "fetching Keycloak $KEYCLOAK_VERSION from Maven Central"
    mvn -q -B "org.apache.maven.plugins:maven-dependency-plugin:$MAVEN_DEPENDENCY_PLUGIN:copy" \
      "-Dartifact=org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" \
      "-DoutputDirectory=$cache/keycloak" >"$logs/keycloak-fetch.log" 2>&1 \
      || die "Keycloak download failed: $logs/keycloak-fetch.log"
  fi
  rm -rf "$kc_home"
  unzip -q "$zip" -d "$cache"
  log "building Keycloak for PostgreSQL (one time)"
  # Build-time options are fixed here so that `start --optimized` skips the rebuild on each start.
  JAVA_HOME="$java17" "$kc_home/bin/kc.sh" build --db=postgres --health-enabled=true \
    --metrics-enabled=true >"$logs/keycloak-build.log" 2>&1 \
    || die "Keycloak build failed: $logs/keycloak-build.log"
  touch "$kc_home/.qlvb-built"
}

install_python() {
  (cd "$repo" && "$uv_bin" sync --frozen --quiet) || die "uv sync failed"
}

cmd_install() {
  install_debian
  install_uv
  install_python
  install_minio
  install_helm
  install_keycloak
}

# --------------------------------------------------------------------------- servers
# The directory PostgreSQL keeps its files in: .devstack/postgres, unless the clone lies where
# the `postgres` user cannot reach (e.g. under /root); then a folder of its own under /var/lib,
# linked from .devstack so that the layout stays the same.
pg_home() {
  local home="$state/pg"
  if [ "$(id -u)" -eq 0 ] && ! runuser -u postgres -- test -x "$state"; then
    home="/var/lib/qlvb-devstack/$(printf '%s' "$state" | sha256sum | cut -c1-16)"
    mkdir -p "$home"
    ln -sfn "$home" "$state/pg"
  fi
  mkdir -p "$home"
  echo "$home"
}

start_postgres() {
  local home data sock
  if port_open "$QLVB_PG_PORT"; then return 0; fi
  home="$(pg_home)"
  data="$home/data"
  sock="$home/run"
  mkdir -p "$sock"
  if [ "$(id -u)" -eq 0 ]; then chown postgres: "$home" "$sock"; fi
  if [ ! -f "$data/PG_VERSION" ]; then
    log "initdb $data"
    local pwfile="$home/superuser.pw"
    printf '%s\n' "$QLVB_PG_SUPERPASSWORD" >"$pwfile"
    mkdir -p "$data"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$data" "$pwfile"; fi
    as_pg "$pg_bin/initdb" -D "$data" -U postgres --pwfile="$pwfile" --auth=scram-sha-256 \
      --encoding=UTF8 --locale=C.UTF-8 >"$logs/initdb.log" 2>&1 || die "initdb failed: $logs/initdb.log"
    rm -f "$pwfile"
  fi
  log "starting PostgreSQL on 127.0.0.1:$QLVB_PG_PORT"
  as_pg "$pg_bin/pg_ctl" -D "$data" -l "$home/postgres.log" -w -t 60 start \
    -o "-h 127.0.0.1 -p $QLVB_PG_PORT -k $sock -c max_connections=300 -c shared_buffers=512MB \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null \
    || die "PostgreSQL did not start: $home/postgres.log"
}

stop_postgres() {
  [ -f "$state/pg/data/postmaster.pid" ] || return 0
  as_pg "$pg_bin/pg_ctl" -D "$state/pg/data" -m fast -w stop >/dev/null 2>&1 || true
}

start_redis() {
  port_open "$QLVB_REDIS_PORT" && return 0
  mkdir -p "$state/redis"
  log "starting Redis on 127.0.0.1:$QLVB_REDIS_PORT"
  redis-server --bind 127.0.0.1 --port "$QLVB_REDIS_PORT" --dir "$state/redis" \
    --daemonize yes --pidfile "$run/redis.pid" --logfile "$logs/redis.log" \
    --appendonly yes --save "" --protected-mode yes
  wait_port "$QLVB_REDIS_PORT" Redis 20
}

stop_redis() { pid_alive "$run/redis.pid" && kill "$(cat "$run/redis.pid")" || true; }

start_minio() {
  if port_open "$QLVB_MINIO_PORT"; then
    # Another checkout's MinIO (a CI clone, a second working tree) would serve other data.
    ours_on_port "$QLVB_MINIO_PORT" "$state/minio" >/dev/null \
      || die "port $QLVB_MINIO_PORT is held by a MinIO that is not this stack's; stop it first"
    return 0
  fi
  mkdir -p "$state/minio"
  log "starting MinIO on 127.0.0.1:$QLVB_MINIO_PORT"
  MINIO_ROOT_USER="$QLVB_MINIO_ROOT_USER" MINIO_ROOT_PASSWORD="$QLVB_MINIO_ROOT_PASSWORD" \
    MINIO_BROWSER=off MINIO_UPDATE=off \
    setsid nohup "$minio_bin" server "$state/minio" --quiet \
    --address "127.0.0.1:$QLVB_MINIO_PORT" >"$logs/minio.log" 2>&1 &
  echo $! >"$run/minio.pid"
  wait_port "$QLVB_MINIO_PORT" MinIO 60
}

# A server that a test stopped and started again (tests/servers.py) has a pid its pid file does
# not know: it is found by the port it listens on, and is ours only if its command line names
# this stack's data directory.
listener_pid() { ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1; }
ours_on_port() { # port marker -> pid
  local pid; pid="$(listener_pid "$1")"
  [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" && echo "$pid"
}

stop_minio() {
  local pid
  pid_alive "$run/minio.pid" && kill "$(cat "$run/minio.pid")" || true
  pid="$(ours_on_port "$QLVB_MINIO_PORT" "$state/minio" || true)"
  [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
}

start_keycloak() {
  port_open "$QLVB_KEYCLOAK_PORT" && return 0
  log "starting Keycloak $KEYCLOAK_VERSION on 127.0.0.1:$QLVB_KEYCLOAK_PORT (about a minute)"
  JAVA_HOME="$java17" KC_BOOTSTRAP_ADMIN_USERNAME="$QLVB_KEYCLOAK_ADMIN" \
    KC_BOOTSTRAP_ADMIN_PASSWORD="$QLVB_KEYCLOAK_ADMIN_PASSWORD" \
    JAVA_OPTS_KC_HEAP="-Xms256m -Xmx768m" \
    setsid nohup "$kc_home/bin/kc.sh" start --optimized \
    --db-url="jdbc:postgresql://127.0.0.1:$QLVB_PG_PORT/keycloak" \
    --db-username=keycloak --db-password="$QLVB_KEYCLOAK_DB_PASSWORD" \
    --http-enabled=true --http-host=127.0.0.1 --http-port="$QLVB_KEYCLOAK_PORT" \
    --http-management-port="$QLVB_KEYCLOAK_MGMT_PORT" \
    --hostname="http://localhost:$QLVB_KEYCLOAK_PORT" --hostname-strict=false \
    --log=file --log-file="$logs/keycloak.log" >"$logs/keycloak.out" 2>&1 &
  echo $! >"$run/keycloak.pid"
  local i
  for ((i = 0; i < 300; i++)); do
    if curl -fsS "http://127.0.0.1:$QLVB_KEYCLOAK_MGMT_PORT/health/ready" >/dev/null 2>&1; then return 0; fi
    pid_alive "$run/keycloak.pid" || die "Keycloak exited: $logs/keycloak.out"
    sleep 1
  done
  die "Keycloak not ready after 300 s: $logs/keycloak.log"
}

stop_keycloak() {
  if pid_alive "$run/keycloak.pid"; then
    kill -- "-$(cat "$run/keycloak.pid")" 2>/dev/null || kill "$(cat "$run/keycloak.pid")" || true
  fi
}

py() { (cd "$repo" && "$repo/.venv/bin/python" "$@"); }

cmd_start() {
  cmd_install
  start_postgres
  py -m devstack.bootstrap_db
  start_redis
  start_minio
  start_keycloak
  py -m devstack.bootstrap_keycloak
  py -m devstack.bootstrap_minio
}

cmd_stop() {
  stop_keycloak
  stop_minio
  stop_redis
  stop_postgres
  log "stopped"
}

cmd_status() {
  local name port
  for name in postgres:$QLVB_PG_PORT redis:$QLVB_REDIS_PORT minio:$QLVB_MINIO_PORT keycloak:$QLVB_KEYCLOAK_PORT; do
    port="${name#*:}"
    if port_open "$port"; then echo "${name%%:*}  up    127.0.0.1:$port"; else echo "${name%%:*}  down  127.0.0.1:$port"; fi
  done
}

cmd_env() { py -m devstack.environment; }

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: $0 install|start|stop|status|env" >&2; exit 2 ;;
esac
