#!/usr/bin/env bash
# Collects what bench/run-on-gpu.sh needs into .device/ (ignored by git; carried to the GPU
# machine): the built binaries, Dawn, and the non-base shared libraries they link. The Python
# peers (bench/torch_peer.py, bench/report.py) are tracked files and travel with the tree.
# KEM_BUILD_DIR picks the build folder (default build/, as scripts/setup.sh makes it); the
# three targets are brought up to date first. KEM_DEVICE_DIR (default .device) is where they go.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${KEM_BUILD_DIR:-build}
cmake --build "$build" --target kem_cli kem_bench kem_pool_bench kem_executor_tests --parallel "${KEM_BUILD_PARALLEL:-2}" |
  { grep -vE '^\[[0-9]+/[0-9]+\] ' || true; }
dest=${KEM_DEVICE_DIR:-.device}
rm -rf "$dest" && mkdir -p "$dest"
cp "$build/src/cli/kem" "$build/bench/kem_bench" "$build/bench/kem_pool_bench" "$build/tests/executor/kem_executor_tests" "$dest/"
strip "$dest"/*  # debug info would push the carried tree past its 64 MiB limit
cp third_party/dawn/node_modules/bun-webgpu-linux-x64/libwebgpu_wrapper.so "$dest/"
# Libraries outside glibc/libstdc++ may be missing there; the binaries find these via $ORIGIN.
for bin in "$dest/kem" "$dest/kem_bench" "$dest/kem_pool_bench" "$dest/kem_executor_tests"; do
  ldd "$bin" | awk '/=> \// {print $3}' | grep -vE '/(libc|libm|libgcc_s|libstdc\+\+|libpthread|libdl|ld-linux[^/]*)\.so' |
    { grep -v libwebgpu_wrapper || true; } | xargs -r -I{} cp -nL {} "$dest/"
done
du -sh "$dest"
