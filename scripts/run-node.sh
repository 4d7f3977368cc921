#!/usr/bin/env bash
# The main job: a node serving ~kem@1.0 on 127.0.0.1:10001.
#
# Sets up and builds what is missing (scripts/setup.sh, scripts/hb/build.sh), starts a real
# HyperBEAM node with kem@1.0 (in a loopback-only network namespace, reachable from this
# machine's 127.0.0.1:10001 through a local forwarder), runs the proof of concept's curl and
# the ao example (an ao process calling kem@1.0 through ao.resolve) against it, prints what
# came back, and keeps serving until interrupted. Where HyperBEAM cannot be built here, KEM's
# own HTTP endpoint serves the same routes instead (the light fallback). No gateway is needed:
# the example kernel is a local pin under the proof of concept's ID.
#
#   scripts/run-node.sh            serve until Ctrl-C
#   scripts/run-node.sh --once     exit after the demo
#   scripts/run-node.sh --detach   return after the demo, leaving the node serving
#   scripts/run-node.sh --stop     stop a detached node
# KEM_PORT changes the port (10001).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
port=${KEM_PORT:-10001}
ns=kem-hb
state=build-hb/main
mode=${1:-serve}
poc_id=btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg

log() { printf '[kem] %s\n' "$*" >&2; }

stop_all() {
  scripts/hb/node.sh stop main 2>/dev/null || true
  local pidfile
  for pidfile in "$state/forwarder.pid" "$state/endpoint.pid"; do
    [[ -f $pidfile ]] || continue
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
  # The namespace goes too once nothing runs in it (the next start makes it again).
  if ip netns list 2>/dev/null | awk '{print $1}' | grep -qxF "$ns" && [[ -z $(ip netns pids "$ns" 2>/dev/null) ]]; then
    ip netns del "$ns" 2>/dev/null || true
  fi
}

case $mode in
  --stop) stop_all; log "stopped"; exit 0 ;;
  serve | --once | --detach) ;;
  *) sed -n '2,17p' "$0" >&2; exit 2 ;;
esac

scripts/setup.sh --no-build
stop_all
mkdir -p "$state"
# Whatever happens from here, what this script started is stopped by PID on the way out,
# unless --detach asked for it to keep serving.
[[ $mode == --detach ]] || trap stop_all EXIT

kind=hyperbeam
if ! scripts/hb/build.sh >"$state/build.log" 2>&1; then
  log "HyperBEAM could not be built here (see $state/build.log); serving KEM's own endpoint instead"
  kind=endpoint
fi

if [[ $kind == hyperbeam ]]; then
  # ao.resolve needs kem@1.0 among hb_opts's default devices (docs/hyperbeam.md, the operator's
  # one-line change); the node also lists it in its own preloaded_devices for HTTP.
  rm -f build-hb/nodes/main/demo-process-id
  KEM_HB_DEMO=1 scripts/hb/node.sh start main "$port" "$ns" --kem-in-defaults
  # HyperBEAM's listener binds every interface, so it stays in the namespace; this forwarder
  # is the only way in, on this machine's loopback alone.
  socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" \
    "EXEC:ip netns exec $ns socat STDIO TCP\:127.0.0.1\:$port" </dev/null >"$state/forwarder.log" 2>&1 &
  echo $! >"$state/forwarder.pid"
else
  # KEM's own endpoint (host OTP), the same routes as the device, on 127.0.0.1 only.
  (cd erlang/kem && rebar3 compile >/dev/null)
  # Cowboy, which the endpoint runs on, built from ../shared (erlang/kem/build_http_deps.sh).
  http_deps=$(sh erlang/kem/build_http_deps.sh)
  mkdir -p "$state/pins"
  cp kernels/double-integer.wgsl "$state/pins/$poc_id.wgsl"
  ERL_LIBS=$http_deps erl -noshell -noinput -pa erlang/kem/_build/default/lib/kem/ebin -eval "
    application:load(kem),
    [application:set_env(kem, K, V) || {K, V} <- [{pin_dir, \"$state/pins\"}, {offline, true},
       {http, #{enabled => true, port => $port, ip => {127, 0, 0, 1}}}]],
    {ok, _} = application:ensure_all_started(kem)." >"$state/endpoint.log" 2>&1 </dev/null &
  echo $! >"$state/endpoint.pid"
fi
for _ in $(seq 1 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/~kem@1.0/info" && break
  sleep 0.2
done

log "the proof of concept's request: curl -X POST http://localhost:$port/~kem@1.0/execute_kernel ... | od -An -tx1"
curl -sS -X POST "http://localhost:$port/~kem@1.0/execute_kernel" \
  -H "Content-Type: application/json" \
  -d "{\"kernel_id\": \"$poc_id\", \"input_data\": [1,3,5,7], \"output_size_hint\": 1}" \
  --output - | od -An -tx1
log "the adapter it ran on:"
curl -sS "http://127.0.0.1:$port/~kem@1.0/get_adapter_info"
echo

if [[ $kind == hyperbeam ]]; then
  for _ in $(seq 1 50); do [[ -s build-hb/nodes/main/demo-process-id ]] && break; sleep 0.2; done
  process=$(cat build-hb/nodes/main/demo-process-id)
  log "the ao example (lua/kem-device.lua, values 1,3,5,7, doubled through ao.resolve):" \
    "curl http://localhost:$port/$process/now/results/output/data"
  curl -sS "http://localhost:$port/$process/now/results/output/data"
  echo
fi

case $mode in
  --once) log "stopping (--once)" ;;
  --detach) log "serving ~kem@1.0 on http://127.0.0.1:$port ($kind); scripts/run-node.sh --stop ends it" ;;
  serve)
    trap 'log "stopping"; exit 0' INT TERM
    log "serving ~kem@1.0 on http://127.0.0.1:$port ($kind); Ctrl-C stops it"
    while sleep 3600; do :; done ;;
esac
