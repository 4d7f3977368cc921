#!/usr/bin/env bash
# Rewrites the settings table of docs/hyperbeam.md from the code's table (`kem settings
# --format markdown`); the test Settings.TheDocsTableIsTheCodesTable fails until it matches.
# Usage: scripts/docs-settings.sh [KEM_BINARY]   (default: build/src/cli/kem)
set -euo pipefail
cd "$(dirname "$0")/.."
kem=${1:-build/src/cli/kem}
table=$("$kem" settings --format markdown)
KEM_TABLE="$table" python3 - docs/hyperbeam.md <<'PY'
import os, sys
path = sys.argv[1]
text = open(path).read()
begin = "<!-- settings table: kem settings --format markdown -->\n"
end = "<!-- end of settings table -->"
a = text.index(begin) + len(begin)
b = text.index(end)
open(path, "w").write(text[:a] + os.environ["KEM_TABLE"] + "\n" + text[b:])
PY
