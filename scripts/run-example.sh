#!/usr/bin/env bash
# The main job: set up and build KEM if needed, then run the double-integer example kernel on
# the GPU (or lavapipe) and print its output and the adapter it ran on.
set -euo pipefail
cd "$(dirname "$0")/.."
KEM_BUILD_TARGET=kem_cli scripts/setup.sh
kem=${KEM_BUILD_DIR:-build}/src/cli/kem
echo "adapter: $("$kem" info)"
printf 'input:   01030507 (bytes)\noutput:  '
printf '\x01\x03\x05\x07' | "$kem" run kernels/double-integer.wgsl --hint 1 --format hex
