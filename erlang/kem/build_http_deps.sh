#!/bin/sh
# Builds the HTTP server KEM's own endpoint runs on (Cowboy 2.12.0 with Cowlib 2.13.0 and
# Ranch 1.8.0, the versions HyperBEAM locks) from the source snapshots in ../shared/hyperbeam,
# into _build/http_deps/lib/APP/ebin. Nothing of theirs is copied into the repository: they
# are built from ../shared at build time (CI has ../shared beside the clone). Debian 12
# packages none of them at these versions (only an old cowlib), hence the snapshots.
# Prints the lib folder (for ERL_LIBS / -pa); rebuilds only when a snapshot changed.
# Environment: KEM_SHARED_DIR  the shared folder (default: ../shared beside the repository)
set -eu
app_dir=$(cd "$(dirname "$0")" && pwd)
src_dir=$(cd "$app_dir/../.." && pwd)
shared=${KEM_SHARED_DIR:-$src_dir/../shared}
lib=$app_dir/_build/http_deps/lib
# A HyperBEAM node already has them: then this is not needed (and not called).
for app in cowlib ranch cowboy; do
  tarball=$shared/hyperbeam/$app.tar.gz
  if [ ! -f "$tarball" ]; then
    echo "kem: no $tarball (KEM's HTTP endpoint needs Cowboy; set KEM_SHARED_DIR)" >&2
    exit 1
  fi
  stamp=$lib/$app/.built-from
  sum=$(cksum < "$tarball")
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then continue; fi
  rm -rf "${lib:?}/$app"
  mkdir -p "$lib"
  tar -xzf "$tarball" -C "$lib"
  # Cowboy's sources include cowlib's headers through include_lib, hence ERL_LIBS; ebin goes
  # on the path so behaviours compiled first are found.
  ERL_LIBS=$lib erlc +debug_info -I "$lib/$app/include" -pa "$lib/$app/ebin" -o "$lib/$app/ebin" \
    "$lib/$app"/src/*.erl >&2
  # Only what a running node reads: ebin (the .app is the snapshot's own), include, LICENSE.
  find "$lib/$app" -mindepth 1 -maxdepth 1 ! -name ebin ! -name include ! -name LICENSE \
    ! -name src -exec rm -rf {} +
  echo "$sum" > "$stamp"
done
echo "$lib"
