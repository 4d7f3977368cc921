#!/usr/bin/env bash
# Installs everything KEM needs on a fresh Debian 12 machine (as root), then builds it
# (everything, or only $KEM_BUILD_TARGET when set).
# Idempotent and quick when everything is in place. Usage: scripts/setup.sh [--no-build]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

log() { printf '[setup] %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------------------------
# Dawn rejects bookworm's Mesa 22.3 lavapipe (it lacks shaderUniform*ArrayDynamicIndexing) and
# then silently falls back to its Null backend, so the Vulkan CPU driver comes from backports.
backports_file=/etc/apt/sources.list.d/bookworm-backports.sources
backport_packages=(mesa-vulkan-drivers libvulkan1)
packages=(
  cmake ninja-build g++ pkg-config
  nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcurl4-openssl-dev libssl-dev libpng-dev libturbojpeg0-dev
  erlang-base erlang-dev erlang-eunit erlang-inets erlang-crypto erlang-ssl erlang-public-key
  erlang-tools erlang-syntax-tools erlang-parsetools rebar3
  # JSON for OTP 25 (kem_json; OTP 27 has its own json module): bookworm's 1.1.1-1.
  erlang-jiffy
  lua5.3 wrk curl socat debootstrap
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# npm fetches Dawn; machines of this kind ship Node.js with npm, otherwise Debian's npm will do.
command -v npm >/dev/null 2>&1 || missing+=(npm)
mesa_version=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
need_backports=0
case "$mesa_version" in *bpo12*) ;; *) need_backports=1 ;; esac

if (( ${#missing[@]} > 0 || need_backports )); then
  export DEBIAN_FRONTEND=noninteractive
  if [[ ! -f $backports_file ]] && ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
    log "adding Debian bookworm-backports"
    cat >"$backports_file" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  fi
  log "apt-get update"
  apt-get update -qq
  if (( need_backports )); then
    log "installing ${backport_packages[*]} from bookworm-backports"
    apt-get install -y -qq -t bookworm-backports "${backport_packages[@]}" >/dev/null
  fi
  if (( ${#missing[@]} > 0 )); then
    log "installing ${missing[*]}"
    apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

# --- Dawn from the npm registry, pinned by third_party/dawn/package-lock.json ----------------
dawn_lib=third_party/dawn/node_modules/bun-webgpu-linux-x64/libwebgpu_wrapper.so
if [[ ! -f $dawn_lib ]]; then
  log "installing Dawn (npm ci)"
  (cd third_party/dawn && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

[[ ${1:-} == --no-build ]] && exit 0

# --- Build -------------------------------------------------------------------------------------
build_dir=${KEM_BUILD_DIR:-build}
if [[ ! -f $build_dir/build.ninja ]]; then
  log "configuring $build_dir"
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${KEM_CMAKE_ARGS:-} >/dev/null
fi
log "building $build_dir"
# Ninja's progress lines are dropped; warnings and errors stay, and a failed build fails setup.
cmake --build "$build_dir" --parallel "$(nproc)" ${KEM_BUILD_TARGET:+--target $KEM_BUILD_TARGET} 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\] ' || true; }
