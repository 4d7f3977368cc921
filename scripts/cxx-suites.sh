#!/usr/bin/env bash
# Configures (once), builds and runs the C++ suites (ctest) in BUILD_DIR with warnings as
# errors: scripts/test-all.sh runs it on the host (GCC 12: release, then ASan + UBSan) and in
# the Debian trixie chroot (GCC 14 and its C++ library), so that a missing include or a
# compiler-specific assumption fails there.
# Usage: scripts/cxx-suites.sh BUILD_DIR [CMAKE_ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
shift
if [[ ! -f $dir/build.ninja ]]; then
  cmake -S . -B "$dir" -G Ninja -DKEM_WERROR=ON -DKEM_BUILD_BENCH=OFF "$@" >/dev/null
fi
cmake --build "$dir" --parallel "$(nproc)" 2>&1 | { grep -vE '^\[[0-9]+/[0-9]+\] ' || true; }
(cd "$dir" && ctest --output-on-failure --parallel "$(nproc)" --timeout 900)
