#!/bin/sh
# Builds kem_nif.so through the project's CMake build and copies it into priv/.
# rebar3 runs this before compiling (see rebar.config). Environment:
#   KEM_SOURCE_DIR  the KEM repository root (default: two levels up from this app)
#   KEM_NIF_BUILD_DIR  CMake build folder (default: $KEM_SOURCE_DIR/build-nif)
#   KEM_BUILD_PARALLEL  build jobs (default 2)
set -eu
app_dir=$(cd "$(dirname "$0")" && pwd)
src_dir=${KEM_SOURCE_DIR:-$(cd "$app_dir/../.." && pwd)}

# As a rebar3 git_subdir dependency the repository is a sparse checkout holding only
# erlang/kem; the NIF needs the whole tree (libkem), so widen the checkout once.
if [ ! -f "$src_dir/CMakeLists.txt" ] && [ -d "$src_dir/.git" ]; then
  echo "kem: widening the sparse checkout in $src_dir to build libkem" >&2
  # git >= 2.25 has sparse-checkout; older ones clear the skip-worktree bits by hand.
  git -C "$src_dir" sparse-checkout disable 2>/dev/null || {
    git -C "$src_dir" config core.sparsecheckout false
    git -C "$src_dir" ls-files -v | sed -n 's/^S //p' | git -C "$src_dir" update-index --no-skip-worktree --stdin
    git -C "$src_dir" checkout -- .
  }
fi
if [ ! -f "$src_dir/CMakeLists.txt" ]; then
  echo "kem: no KEM source tree at $src_dir (set KEM_SOURCE_DIR)" >&2
  exit 1
fi
if [ ! -f "$src_dir/third_party/dawn/node_modules/bun-webgpu-linux-x64/libwebgpu_wrapper.so" ]; then
  echo "kem: Dawn is missing; run $src_dir/scripts/setup.sh --no-build first" >&2
  exit 1
fi

build_dir=${KEM_NIF_BUILD_DIR:-$src_dir/build-nif}
generator=
command -v ninja >/dev/null 2>&1 && generator="-G Ninja"
# Configure unless a finished configuration is there (a failed one leaves a cache but no
# build files).
if [ ! -f "$build_dir/build.ninja" ] && [ ! -f "$build_dir/Makefile" ]; then
  # shellcheck disable=SC2086
  cmake -S "$src_dir" -B "$build_dir" $generator -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DKEM_BUILD_NIF=ON -DKEM_BUILD_TESTS=OFF -DKEM_BUILD_BENCH=OFF ${KEM_CMAKE_ARGS:-} >/dev/null
fi
cmake --build "$build_dir" --target kem_nif kem_gpu_worker --parallel "${KEM_BUILD_PARALLEL:-2}"
mkdir -p "$app_dir/priv"
# Copy through a temporary name so a VM that has the old one loaded keeps a valid file. The GPU
# worker program goes next to the NIF, where the NIF looks for it.
cp "$build_dir/erlang/kem/c_src/kem_nif.so" "$app_dir/priv/kem_nif.so.tmp"
mv -f "$app_dir/priv/kem_nif.so.tmp" "$app_dir/priv/kem_nif.so"
# KEM's helper programs go next to the NIF, where find_helper_program looks first (the build
# tree's bin/ is only the fallback): kem-gpu-worker holds the GPUs (kem/worker_options.h),
# kem-kernel-sandbox compiles each new kernel in a process of its own (kem/kernel_admission.h).
for helper in kem-gpu-worker kem-kernel-sandbox; do
  cp "$build_dir/bin/$helper" "$app_dir/priv/$helper.tmp"
  mv -f "$app_dir/priv/$helper.tmp" "$app_dir/priv/$helper"
done
