#!/usr/bin/env bash
# Builds a HyperBEAM node with KEM as a dependency, offline, into build-hb/ (idempotent; quick
# when nothing changed). Sources: the snapshots in ../shared/hyperbeam (HyperBEAM b2743e4 and
# the dependencies it pins); KEM: this checkout's erlang/kem.
#
# HyperBEAM's own rebar.config cannot run here: it names hex plugins (pc, rustler, edown), a
# cargo build of the SNP NIF, port_specs built by pc, a pre-hook that clones WAMR and pre-hooks
# that need a git work tree. They are left out, and what they made is made by hand below
# (build info header, hb_keccak and b64fast NIFs). Without WAMR and SNP, WASM processes and
# snp@1.0 cannot run; lua@5.3a processes, which ao examples use, can.
#
# KEM is added the way docs/hyperbeam.md tells operators: a `kem` entry in HyperBEAM's deps,
# here resolved through rebar3's _checkouts/ (a copy of erlang/kem, so this OTP 27 build and
# the host's OTP 25 build keep their own priv/kem_nif.so) with KEM_SOURCE_DIR at this checkout.
# The NIF is built by KEM's own pre-compile hook with the chroot's GCC 14, into build-hb/nif.
set -euo pipefail
hb_root=$(cd "$(dirname "$0")/../.." && pwd)
source "$hb_root/scripts/hb/chroot.sh"
cd "$hb_root"

shared_hb=${KEM_HB_SHARED:-$hb_root/../shared/hyperbeam}
out=build-hb
app=$out/HyperBEAM
deps=(cowboy cowlib ranch gun prometheus prometheus_cowboy prometheus_httpd quantile_estimator
      accept luerl b64fast)

[[ -f $shared_hb/HyperBEAM.tar.gz ]] || { hb_log "no HyperBEAM snapshots at $shared_hb"; exit 3; }
hb_env_ready
[[ -f third_party/dawn/node_modules/bun-webgpu-linux-x64/libwebgpu_wrapper.so ]] ||
  scripts/setup.sh --no-build

# --- Sources (unpacked once; a changed snapshot unpacks again) ------------------------------
stamp=$out/.sources
sources_id=$(cd "$shared_hb" && sha256sum ./*.tar.gz | sha256sum | cut -c1-16)
if [[ ! -f $stamp || $(cat "$stamp") != "$sources_id" ]]; then
  hb_log "unpacking HyperBEAM and its dependencies into $out"
  rm -rf "$app"
  mkdir -p "$out"
  tar -xzf "$shared_hb/HyperBEAM.tar.gz" -C "$out"
  mkdir -p "$app/_checkouts" "$app/_build"
  for dep in "${deps[@]}"; do
    tar -xzf "$shared_hb/$dep.tar.gz" -C "$app/_checkouts"
  done
  # b64fast's rebar.config wants the pc plugin for its one C file: built by hand below.
  printf '{erl_opts, [debug_info]}.\n{deps, []}.\n' >"$app/_checkouts/b64fast/rebar.config"
  # HyperBEAM's rebar.config less what cannot run offline (see the top of this file). The deps
  # are HyperBEAM's own list plus kem, as docs/hyperbeam.md adds it; _checkouts/ provides all.
  cat >"$app/rebar.config" <<'CFG'
{erl_opts, [debug_info, {d, 'COWBOY_QUICER', 1}, {d, 'GUN_QUICER', 1}]}.
{deps, [
    b64fast, cowboy, gun, prometheus, prometheus_cowboy, luerl,
    {kem, {git_subdir, "https://github.com/OWNER/kem.git", {branch, "main"}, "erlang/kem"}}
]}.
{overrides, []}.
CFG
  rm -f "$app/rebar.lock"
  # What the left-out pre-hooks wrote: build information for dev_meta.
  {
    echo '-define(HB_BUILD_SOURCE, <<"b2743e4ab019b3a830a937dd2cc0af3278cae828">>).'
    echo '-define(HB_BUILD_SOURCE_SHORT, <<"b2743e4">>).'
    echo "-define(HB_BUILD_TIME, $(date +%s))."
  } >"$app/_build/hb_buildinfo.hrl"
  echo "$sources_id" >"$stamp"
fi

# --- KEM, copied in as a checkout dependency ------------------------------------------------
# Only the sources rebar3 needs; its own _build and priv are left where they are.
mkdir -p "$app/_checkouts/kem"
for part in src c_src include rebar.config build_nif.sh; do
  [[ -e erlang/kem/$part ]] || continue
  rm -rf "$app/_checkouts/kem/$part.new"
  cp -a "erlang/kem/$part" "$app/_checkouts/kem/$part.new"
  if [[ -e $app/_checkouts/kem/$part ]] && diff -rq "$app/_checkouts/kem/$part" \
       "$app/_checkouts/kem/$part.new" >/dev/null 2>&1; then
    rm -rf "$app/_checkouts/kem/$part.new"   # unchanged: keep timestamps, no rebuild
  else
    rm -rf "$app/_checkouts/kem/$part"
    mv "$app/_checkouts/kem/$part.new" "$app/_checkouts/kem/$part"
  fi
done

# --- Build (with OTP 27) --------------------------------------------------------------------
hb_log "building HyperBEAM with kem (rebar3 compile, OTP 27)"
start=$(date +%s)
hb_exec "set -e
  cd $app
  erts=\$(erl -noshell -eval 'io:put_chars(code:root_dir() ++ \"/erts-\" ++ erlang:system_info(version) ++ \"/include\"), halt().')
  mkdir -p priv _checkouts/b64fast/priv
  # The NIFs whose pc port_specs were left out: one gcc line each.
  [ priv/hb_keccak.so -nt native/hb_keccak/hb_keccak.c ] ||
    gcc -O2 -shared -fPIC -I\"\$erts\" -Inative/hb_keccak/include native/hb_keccak/hb_keccak.c \
      native/hb_keccak/hb_keccak_nif.c -o priv/hb_keccak.so
  [ _checkouts/b64fast/priv/b64fast.so -nt _checkouts/b64fast/c_src/b64fast.c ] ||
    gcc -O2 -shared -fPIC -I\"\$erts\" _checkouts/b64fast/c_src/b64fast.c \
      -o _checkouts/b64fast/priv/b64fast.so
  mkdir -p priv/html && cp -R src/html/* priv/html/
  export KEM_SOURCE_DIR=$hb_root KEM_NIF_BUILD_DIR=$hb_root/$out/nif
  # A failed compile prints its whole log and fails the build.
  rebar3 compile >_build/compile.log 2>&1 || { cat _build/compile.log; exit 1; }
  # Success: HyperBEAM's and its dependencies' own warnings stay in the log, not on screen.
  test -f _build/default/checkouts/kem/ebin/dev_kem.beam -o -f _build/default/lib/kem/ebin/dev_kem.beam
  test -f _build/default/lib/hb/ebin/hb.beam"

# The operator's one-line change for ao.resolve (docs/hyperbeam.md): kem@1.0 in hb_opts's
# default preloaded_devices. Compiled into an ebin of its own, so one build serves nodes
# with and without it (tests run both).
patched=$out/hb_opts_with_kem
if [[ ! -f $patched/hb_opts.beam || $app/src/hb_opts.erl -nt $patched/hb_opts.beam ]]; then
  mkdir -p "$patched"
  sed 's|\(#{<<"name">> => <<"wasm-64@1.0">>, <<"module">> => dev_wasm}\)|\1,\n            #{<<"name">> => <<"kem@1.0">>, <<"module">> => dev_kem}|' \
    "$app/src/hb_opts.erl" >"$patched/hb_opts.erl"
  grep -q 'kem@1.0' "$patched/hb_opts.erl" || { hb_log "could not add kem@1.0 to hb_opts"; exit 1; }
  hb_exec "cd $patched && erlc -I ../HyperBEAM/src -I ../HyperBEAM/src/include -I ../HyperBEAM hb_opts.erl"
fi
# The node starter (kem_hb_node), used by scripts/hb/node.sh and the tests.
mkdir -p "$out/ebin"
if [[ ! -f $out/ebin/kem_hb_node.beam || scripts/hb/kem_hb_node.erl -nt $out/ebin/kem_hb_node.beam ]]; then
  hb_exec "erlc +warnings_as_errors -o $out/ebin scripts/hb/kem_hb_node.erl"
fi
hb_log "HyperBEAM with kem built in $(( $(date +%s) - start )) s"
