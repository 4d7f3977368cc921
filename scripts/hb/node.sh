#!/usr/bin/env bash
# Starts and stops real HyperBEAM nodes serving kem@1.0 (built by scripts/hb/build.sh).
#
# HyperBEAM's cowboy listener binds every interface (hb_http_server has no address option), so
# each node runs inside a network namespace that has only loopback: it is reachable on that
# namespace's 127.0.0.1 and nowhere else. `ip netns exec NS CMD` runs a client there.
#
#   scripts/hb/node.sh start NAME PORT NETNS [--store-results] [--kem-in-defaults]
#       starts node NAME (state in build-hb/nodes/NAME, log in build-hb/nodes/NAME.log, PID in
#       build-hb/nodes/NAME.pid) and returns once it answers HTTP, or fails with its log.
#       --store-results: HyperBEAM's own default for HTTP calls (results into the store).
#       KEM_HB_DEMO=1: also make the ao example (kem_hb_node:demo/0).
#       --kem-in-defaults: the operator's one-line change to hb_opts (kem@1.0 in the default
#       preloaded_devices), without which ao.resolve in Lua cannot reach kem@1.0.
#   scripts/hb/node.sh stop NAME      stops it by its PID (TERM, then KILL after 10 s)
#   scripts/hb/node.sh netns NETNS    makes the namespace (loopback only) if it is missing
set -euo pipefail
hb_root=$(cd "$(dirname "$0")/../.." && pwd)
source "$hb_root/scripts/hb/chroot.sh"
cd "$hb_root"
nodes=build-hb/nodes

ensure_netns() {
  local ns=$1
  if ! ip netns list | awk '{print $1}' | grep -qxF "$ns"; then
    ip netns add "$ns"
  fi
  ip -n "$ns" link set lo up
}

start() {
  local name=$1 port=$2 ns=$3
  shift 3
  local store=0 defaults=
  for a in "$@"; do
    case $a in
      --store-results) store=1 ;;
      --kem-in-defaults) defaults=with-kem-defaults ;;
      *) echo "unknown option $a" >&2; exit 2 ;;
    esac
  done
  hb_env_ready
  [[ -f build-hb/ebin/kem_hb_node.beam ]] || { hb_log "no HyperBEAM build: run scripts/hb/build.sh"; exit 1; }
  ensure_netns "$ns"
  local dir=$nodes/$name pidfile=$nodes/$name.pid log=$nodes/$name.log
  if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    echo "node $name is already running (pid $(cat "$pidfile"))" >&2
    exit 1
  fi
  mkdir -p "$dir"
  # ip netns exec, unshare, chroot, env and bash each exec the next, so $! is the VM's PID.
  KEM_HB_CMD="exec env KEM_HB_PORT=$port KEM_HB_DIR=$hb_root/$dir KEM_HB_STORE_RESULTS=$store \
    KEM_HB_DEMO=${KEM_HB_DEMO:-0} \
    KEM_REPO_DIR=$hb_root erl -noshell -noinput $(hb_code_path $defaults) -s kem_hb_node start"
  export KEM_HB_CMD hb_use_chroot
  ip netns exec "$ns" bash -c 'source scripts/hb/chroot.sh; hb_exec_replace "$KEM_HB_CMD"' \
    >"$log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$pidfile"
  local i
  for i in $(seq 1 120); do
    if ip netns exec "$ns" curl -sf -o /dev/null "http://127.0.0.1:$port/~kem@1.0/info"; then
      hb_log "node $name serving kem@1.0 on 127.0.0.1:$port in network namespace $ns (pid $pid)"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.5
  done
  hb_log "node $name did not start; its log:"
  cat "$log" >&2
  stop "$name" || true
  exit 1
}

stop() {
  local name=$1 pidfile=$nodes/$1.pid pid
  [[ -f $pidfile ]] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

case ${1:-} in
  start) shift; start "$@" ;;
  stop) stop "$2" ;;
  netns) ensure_netns "$2" ;;
  *) sed -n '2,17p' "$0" >&2; exit 2 ;;
esac
