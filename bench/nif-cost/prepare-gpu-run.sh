#!/usr/bin/env bash
# Issue 18, part 4: collects what bench/nif-cost/run-on-gpu.sh needs into .device-nif/ (ignored;
# carried to the GPU machine, which has no Erlang): the NIF and kem_nif_cost built here (stripped),
# Dawn and the libraries they link, the kem application and nif_cost compiled to beams, and
# Debian 12's erlang-base deb (the same OTP 25 as here), unpacked there with dpkg -x.
# KEM_BUILD_DIR (default build/, configured with KEM_BUILD_NIF and KEM_BUILD_BENCH) builds them.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${KEM_BUILD_DIR:-build}
dest=.device-nif
cmake --build "$build" --target kem_nif kem_nif_cost kem_fairness_bench kem_channel_bench kem_gpu_worker kem-kernel-sandbox --parallel "${KEM_BUILD_PARALLEL:-2}" |
  { grep -vE '^\[[0-9]+/[0-9]+\] ' || true; }
rm -rf "$dest" && mkdir -p "$dest/lib" "$dest/kem/ebin" "$dest/kem/priv" "$dest/debs"
cp "$build/bench/kem_nif_cost" "$build/bench/kem_fairness_bench" "$build/bench/kem_channel_bench" "$dest/"
cp "$build/erlang/kem/c_src/kem_nif.so" "$dest/kem/priv/"
# The helper programs (the GPU worker, the kernel sandbox), where each looks for them: next to
# kem_nif_cost and next to the NIF.
for helper in kem-gpu-worker kem-kernel-sandbox; do
  cp "$build/bin/$helper" "$dest/" && cp "$build/bin/$helper" "$dest/kem/priv/"
  strip "$dest/$helper" "$dest/kem/priv/$helper"
done
strip "$dest/kem_nif_cost" "$dest/kem_fairness_bench" "$dest/kem_channel_bench" "$dest/kem/priv/kem_nif.so"
cp third_party/dawn/node_modules/bun-webgpu-linux-x64/libwebgpu_wrapper.so "$dest/lib/"
for bin in "$dest/kem_nif_cost" "$dest/kem_fairness_bench" "$dest/kem/priv/kem_nif.so"; do
  ldd "$bin" | awk '/=> \// {print $3}' | grep -vE '/(libc|libm|libgcc_s|libstdc\+\+|libpthread|libdl|ld-linux[^/]*)\.so' |
    { grep -v libwebgpu_wrapper || true; } | xargs -r -I{} cp -nL {} "$dest/lib/"
done
erlc -o "$dest/kem/ebin" erlang/kem/src/*.erl bench/nif-cost/nif_cost.erl
cp erlang/kem/src/kem.app.src "$dest/kem/ebin/kem.app"
version=$(dpkg-query -W -f='${Version}' erlang-base)
(cd "$dest/debs" && apt-get download "erlang-base=$version" >/dev/null 2>&1 && for f in *.deb; do mv "$f" erlang-base.deb; done)
du -sh "$dest"
