#!/usr/bin/env bash
# Collects what bench/run-on-gpu.sh needs into .device/ (ignored by git; carried to the GPU
# machine): the built binaries, Dawn, and the non-base shared libraries they link.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${KEM_BUILD_DIR:-build}
rm -rf .device && mkdir -p .device
cp "$build/src/cli/kem" "$build/bench/kem_bench" "$build/tests/executor/kem_executor_tests" .device/
strip .device/*  # debug info would push the carried tree past its 64 MiB limit
cp third_party/dawn/node_modules/bun-webgpu-linux-x64/libwebgpu_wrapper.so .device/
# Libraries outside glibc/libstdc++ may be missing there; the binaries find these via $ORIGIN.
for bin in .device/kem .device/kem_bench .device/kem_executor_tests; do
  ldd "$bin" | awk '/=> \// {print $3}' | grep -vE '/(libc|libm|libgcc_s|libstdc\+\+|libpthread|libdl|ld-linux[^/]*)\.so' |
    { grep -v libwebgpu_wrapper || true; } | xargs -r -I{} cp -nL {} .device/
done
du -sh .device
