#!/bin/sh
# KEM's WGSL front end against Tint over Dawn's test corpus (docs/wgsl.md, "Conformance over
# Tint's corpus"). Unpacks the shared corpus into a temporary folder (never into the project)
# and runs the conformance tool over it; extra arguments go to the tool (--every 20 for a shard).
#   scripts/wgsl-conformance.sh [build/tests/wgsl_conformance/kem_wgsl_conformance] [ARGS...]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
tool=${1:-$root/build/tests/wgsl_conformance/kem_wgsl_conformance}
[ $# -gt 0 ] && shift
corpus=${KEM_WGSL_CORPUS:-$root/../shared/wgsl-corpus}
if [ ! -f "$corpus/dawn-tint-tests.tar.gz" ]; then
  echo "no corpus at $corpus (set KEM_WGSL_CORPUS): skipped"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xzf "$corpus/dawn-tint-tests.tar.gz" -C "$work"
"$tool" --dir "$work" --docs "$root/docs/wgsl.md" --manifest "$corpus/manifest.tsv" "$@"
