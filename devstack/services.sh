#!/usr/bin/env bash
# The four QLVB services, their outbox relays and job workers as background processes of the
# local stack.
#   devstack/services.sh start | stop | status
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
state="${QLVB_STACK_DIR:-$repo/.devstack}"
run="$state/run"
logs="$state/logs"
mkdir -p "$run" "$logs"
services=(identity storage docs interchange)
eval "$("$here/stack.sh" env)"
# The services log JSON lines and export telemetry to their log (no collector runs locally).
export QLVB_TELEMETRY_EXPORTER="${QLVB_TELEMETRY_EXPORTER:-none}"

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
# The simulated national axis the interchange connectors of the local stack talk to.
axis_sim_port="$(sed -n 's/^QLVB_AXIS_SIM_PORT=//p' "$here/ports.env")"
# One host name for browsers, routed as the cluster's ingress routes (devstack/gateway.py).
gateway_port="$(sed -n 's/^QLVB_GATEWAY_PORT=//p' "$here/ports.env")"

start() {
  local s port var
  if ! alive "$run/axis-sim.pid"; then
    setsid nohup "$repo/.venv/bin/python" -m peers.axis_sim --port "$axis_sim_port" \
      >"$logs/axis-sim.log" 2>&1 &
    echo $! >"$run/axis-sim.pid"
  fi
  if ! alive "$run/gateway.pid"; then
    local upstreams=()
    for s in "${services[@]}"; do
      var="QLVB_${s^^}_PORT"; upstreams+=(--upstream "$s=http://127.0.0.1:${!var}")
    done
    setsid nohup "$repo/.venv/bin/python" -m devstack.gateway --port "$gateway_port" \
      "${upstreams[@]}" >"$logs/gateway.log" 2>&1 &
    echo $! >"$run/gateway.pid"
  fi
  for s in "${services[@]}"; do
    if ! alive "$run/service-$s.pid"; then
      setsid nohup "$repo/.venv/bin/qlvb" serve "$s" >"$logs/service-$s.log" 2>&1 &
      echo $! >"$run/service-$s.pid"
    fi
    if ! alive "$run/relay-$s.pid"; then
      QLVB_HEARTBEAT_FILE="$run/relay-$s.heartbeat" \
        setsid nohup "$repo/.venv/bin/qlvb" relay "$s" >"$logs/relay-$s.log" 2>&1 &
      echo $! >"$run/relay-$s.pid"
    fi
    if [ -f "$repo/services/$s/consumers.py" ] && ! alive "$run/consumer-$s.pid"; then
      QLVB_HEARTBEAT_FILE="$run/consumer-$s.heartbeat" \
        setsid nohup "$repo/.venv/bin/qlvb" consume "$s" >"$logs/consumer-$s.log" 2>&1 &
      echo $! >"$run/consumer-$s.pid"
    fi
    if ! alive "$run/worker-$s.pid"; then
      QLVB_HEARTBEAT_FILE="$run/worker-$s.heartbeat" \
        setsid nohup "$repo/.venv/bin/qlvb" worker "$s" >"$logs/worker-$s.log" 2>&1 &
      echo $! >"$run/worker-$s.pid"
    fi
  done
  for s in "${services[@]}"; do
    var="QLVB_${s^^}_PORT"; port="${!var}"
    for _ in $(seq 1 100); do
      curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break
      alive "$run/service-$s.pid" || { echo "service $s exited: $logs/service-$s.log" >&2; exit 1; }
      sleep 0.2
    done
    curl -fsS "http://127.0.0.1:$port/ready" >/dev/null || { echo "service $s not ready" >&2; exit 1; }
  done
}

stop() {
  local f
  for f in "$run"/service-*.pid "$run"/relay-*.pid "$run"/worker-*.pid "$run"/consumer-*.pid \
    "$run"/axis-sim.pid "$run"/gateway.pid; do
    [ -f "$f" ] || continue
    alive "$f" && kill "$(cat "$f")" 2>/dev/null || true
    rm -f "$f"
  done
}

status() {
  local s var port
  for s in "${services[@]}"; do
    var="QLVB_${s^^}_PORT"; port="${!var}"
    if curl -fsS "http://127.0.0.1:$port/ready" >/dev/null 2>&1; then
      echo "$s  ready  http://127.0.0.1:$port"
    else
      echo "$s  down   http://127.0.0.1:$port"
    fi
  done
  if alive "$run/axis-sim.pid"; then
    echo "axis-sim  up     http://127.0.0.1:$axis_sim_port"
  else
    echo "axis-sim  down   http://127.0.0.1:$axis_sim_port"
  fi
  if alive "$run/gateway.pid"; then
    echo "gateway   up     http://localhost:$gateway_port"
  else
    echo "gateway   down   http://localhost:$gateway_port"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
