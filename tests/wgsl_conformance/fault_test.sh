#!/bin/sh
# The driver survives a child that crashes or hangs in Tint: the file is counted as a tint-crash
# (Dawn's, not a disagreement) and a fresh child judges the files after it.
set -eu
tool=$1 docs=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for i in 1 2 3 4; do echo '@compute @workgroup_size(1) fn main() {}' > "$work/dawn__0000$i.wgsl"; done
check() {  # FAULT EXPECTED-LINE
  out=$(KEM_CONFORMANCE_TEST_FAULT=$1 "$tool" --dir "$work" --docs "$docs" --timeout 2)
  echo "$out"
  echo "$out" | grep -q "$2" || { echo "FAIL: no '$2' for $1"; exit 1; }
  echo "$out" | grep -Eq "agree-accept +3" || { echo "FAIL: the other files were not judged ($1)"; exit 1; }
}
check crash:dawn__00002.wgsl "tint-crash dawn__00002.wgsl : signal Aborted"
check stall:dawn__00003.wgsl "tint-crash dawn__00003.wgsl : stalled 2 s"
