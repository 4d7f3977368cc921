#!/usr/bin/env bash
# The OTP 27 environment HyperBEAM needs. Sourced by the other scripts in scripts/hb/.
#
# HyperBEAM needs OTP 27 (the json module, triple-quoted strings); Debian 12 has OTP 25, and
# Debian 13's packages need glibc 2.38. Where the host's own OTP is 27 or newer it is used as
# it is; otherwise a Debian trixie chroot is made once with debootstrap (about a minute) and
# kept at $KEM_HB_CHROOT (outside the checkout, so every clone and CI run on this machine
# shares it). Commands enter it through a private mount namespace (unshare -m), so the bind
# mounts of /proc, /sys, /dev and the checkout vanish with the command: nothing to unmount,
# nothing left behind when a command is killed.
#
# Provides: hb_env_ready (ensures the environment, sets hb_use_chroot), hb_exec 'CMD' (runs CMD
# with OTP 27, from the checkout, which has the same path as on the host), hb_exec_replace 'CMD'.

hb_chroot=${KEM_HB_CHROOT:-/var/lib/kem/trixie}
hb_root=${hb_root:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# What the chroot needs to build and run HyperBEAM with KEM as a dependency: OTP 27 and rebar3,
# GCC 14 and the -dev packages libkem's NIF links (a second compiler and C++ library for KEM),
# Mesa's lavapipe for the GPU-less machines, curl for the tests' clients, lua5.3 for kem_lua_tests.
hb_chroot_packages=(
  erlang-base erlang-dev erlang-eunit erlang-inets erlang-crypto erlang-ssl erlang-public-key
  erlang-tools erlang-syntax-tools erlang-parsetools erlang-os-mon erlang-asn1
  erlang-runtime-tools rebar3
  gcc g++ cmake ninja-build pkg-config nlohmann-json3-dev libcurl4-openssl-dev libssl-dev
  libpng-dev libturbojpeg0-dev libcli11-dev libgtest-dev libgmock-dev wrk mesa-vulkan-drivers libvulkan1 curl ca-certificates lua5.3
)
# Bump when hb_chroot_packages changes, so an existing chroot is brought up to date.
hb_chroot_stamp_value="2026-12-01.6 ${hb_chroot_packages[*]}"

hb_log() { printf '[hb] %s\n' "$*" >&2; }

hb_native_otp() {  # true when the host's erl is OTP 27 or newer
  command -v erl >/dev/null 2>&1 || return 1
  local release
  release=$(erl -noshell -eval 'io:put_chars(erlang:system_info(otp_release)), halt().' 2>/dev/null) || return 1
  [[ $release =~ ^[0-9]+$ ]] && (( release >= 27 ))
}

hb_env_ready() {
  if [[ ${KEM_HB_NATIVE:-} == 1 ]] || { [[ -z ${KEM_HB_NATIVE:-} ]] && hb_native_otp; }; then
    hb_use_chroot=0
    return 0
  fi
  hb_use_chroot=1
  local stamp=$hb_chroot/.kem-packages
  if [[ -f $stamp && $(cat "$stamp") == "$hb_chroot_stamp_value" ]]; then
    return 0
  fi
  command -v debootstrap >/dev/null 2>&1 || {
    hb_log "installing debootstrap"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  }
  if [[ ! -x $hb_chroot/usr/bin/apt-get ]]; then
    hb_log "making a Debian trixie chroot at $hb_chroot (debootstrap, about a minute)"
    rm -rf "$hb_chroot.partial"
    mkdir -p "$(dirname "$hb_chroot")"
    debootstrap --variant=minbase trixie "$hb_chroot.partial" http://deb.debian.org/debian >/dev/null
    rm -rf "$hb_chroot"
    mv "$hb_chroot.partial" "$hb_chroot"
  fi
  hb_log "installing OTP 27, rebar3, GCC 14 and KEM's build dependencies in the chroot"
  cp /etc/resolv.conf "$hb_chroot/etc/resolv.conf" 2>/dev/null || true
  hb_chroot_run "export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends ${hb_chroot_packages[*]} >/dev/null"
  echo "$hb_chroot_stamp_value" >"$stamp"
}

# The command that enters the chroot: $1 chroot, $2 checkout, $3 the command line to run there
# (from the checkout, which is bind-mounted at its own path).
_hb_enter='
  set -e
  c=$1 r=$2 cmd=$3
  mkdir -p "$c/proc" "$c/sys" "$c/dev" "$c$r"
  mount --bind /proc "$c/proc"; mount --bind /sys "$c/sys"; mount --rbind /dev "$c/dev"
  mount --bind "$r" "$c$r"
  # ../shared (the read-only reference beside the checkout) holds the HyperBEAM archives.
  if [ -d "$r/../shared" ]; then
    s=$(cd "$r/../shared" && pwd -P); mkdir -p "$c$s"; mount --bind "$s" "$c$s"
  fi
  exec chroot "$c" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 \
    TERM=dumb ${KEM_ADAPTER:+KEM_ADAPTER=$KEM_ADAPTER} /bin/bash -c "cd \"$r\" && $cmd"'

# Runs a shell command line inside the chroot and returns its status.
hb_chroot_run() {
  unshare -m --propagation private bash -c "$_hb_enter" _ "$hb_chroot" "$hb_root" "$1"
}

# Replaces the calling shell with the command line inside the chroot: every step execs the
# next, so the caller's PID becomes the command's (a node's PID file names the VM itself).
hb_chroot_exec() {
  exec unshare -m --propagation private bash -c "$_hb_enter" _ "$hb_chroot" "$hb_root" "$1"
}

# -pa arguments for a VM of the HyperBEAM build (scripts/hb/build.sh): every application, the
# node starter, then EXTRA ebins, and last, with "with-kem-defaults" first, the operator's
# changed hb_opts (each -pa goes to the front of the code path, so the last one wins).
# Usage: hb_code_path [with-kem-defaults] [EXTRA_EBIN...]
hb_code_path() {
  local patched=0 d args=()
  [[ ${1:-} == with-kem-defaults ]] && { patched=1; shift; }
  for d in "$hb_root"/build-hb/HyperBEAM/_build/default/lib/*/ebin \
           "$hb_root"/build-hb/HyperBEAM/_build/default/checkouts/*/ebin \
           "$hb_root"/build-hb/ebin "$@"; do
    [[ -d $d ]] && args+=(-pa "$d")
  done
  (( patched )) && args+=(-pa "$hb_root/build-hb/hb_opts_with_kem")
  echo "${args[*]}"
}

# hb_exec 'command line': runs it with OTP 27 (natively, or in the chroot), from the checkout.
hb_exec() {
  if (( hb_use_chroot )); then
    hb_chroot_run "$1"
  else
    (cd "$hb_root" && bash -c "$1")
  fi
}

# hb_exec_replace 'command line': as hb_exec, replacing the calling shell (same PID).
hb_exec_replace() {
  if (( hb_use_chroot )); then
    hb_chroot_exec "$1"
  else
    cd "$hb_root" && exec bash -c "$1"
  fi
}
