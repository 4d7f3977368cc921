#!/usr/bin/env bash
# docs/hyperbeam.md as a test: every command in its ```console blocks (a line starting with
# "$ ", continued by lines after a trailing backslash) runs, in order, in one shell from the
# checkout's root, so variables set by one command reach the next. Its standard output must be
# the lines written under it, exactly, except that "..." in a line stands for any text.
# A command that fails (non-zero status) fails the test, and so does a block left unrun.
# Usage: tests/hyperbeam/docs_walkthrough.sh [DOC]   (default docs/hyperbeam.md)
# Commands run as in a user's shell: no -e, -u or pipefail (a "| head -1" is no failure).
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
doc=${1:-docs/hyperbeam.md}

# Lines of the doc's console blocks as records: "C<command>" (continuation lines joined with
# the unit separator, \037, so that a record is one line), "O<line>".
records=$(awk '
  /^```console$/ { inside = 1; next }
  /^```/ && inside { inside = 0; if (cmd != "") { print "C" cmd; cmd = "" } next }
  !inside { next }
  cont { cmd = cmd "\037" $0; cont = ($0 ~ /\\$/); if (!cont) { print "C" cmd; cmd = "" } next }
  /^\$ / { cmd = substr($0, 3); cont = ($0 ~ /\\$/); if (!cont) { print "C" cmd; cmd = "" } next }
  { print "O" $0 }
' "$doc")

# matches ACTUAL EXPECTED: EXPECTED's parts between "..." appear in ACTUAL in order, the
# first at its start and the last at its end.
matches() {
  local actual=$1 expected=$2
  [[ $expected != *...* ]] && { [[ $actual == "$expected" ]]; return; }
  local first=${expected%%...*} rest=${expected#*...}
  [[ $actual == "$first"* ]] || return 1
  actual=${actual#"$first"}
  while [[ $rest == *...* ]]; do
    local part=${rest%%...*}
    rest=${rest#*...}
    [[ -z $part ]] && continue
    [[ $actual == *"$part"* ]] || return 1
    actual=${actual#*"$part"}
  done
  [[ $actual == *"$rest" ]]
}

passed=0 failed=0
check() {  # COMMAND, expected lines (newline-separated, possibly empty)
  local cmd=$1 expected=$2 output status
  # In this shell, not a subshell, so that assignments stay for the next commands.
  eval "$cmd" </dev/null >"$root/build-hb/docs-walkthrough.stdout" 2>"$root/build-hb/docs-walkthrough.stderr"
  status=$?
  output=$(cat "$root/build-hb/docs-walkthrough.stdout")
  local -a got want
  mapfile -t got <<<"$output"
  mapfile -t want <<<"$expected"
  [[ -z $output ]] && got=()
  [[ -z $expected ]] && want=()
  local ok=1 i
  (( status == 0 )) || ok=0
  (( ${#got[@]} == ${#want[@]} )) || ok=0
  if (( ok )); then
    for i in "${!want[@]}"; do matches "${got[$i]}" "${want[$i]}" || { ok=0; break; }; done
  fi
  if (( ok )); then
    passed=$((passed + 1))
    printf 'ok      $ %s\n' "${cmd%%$'\n'*}"
  else
    failed=$((failed + 1))
    printf 'FAILED  $ %s\n  status %d\n  expected:\n%s\n  got:\n%s\n  stderr:\n%s\n' "$cmd" "$status" \
      "$(sed 's/^/    /' <<<"$expected")" "$(sed 's/^/    /' <<<"$output")" \
      "$(tail -5 "$root/build-hb/docs-walkthrough.stderr" | sed 's/^/    /')"
  fi
}

mkdir -p build-hb
cmd= expected= have=0
while IFS= read -r record; do
  case ${record:0:1} in
    C)
      (( have )) && check "$cmd" "$expected"
      cmd=${record:1} expected= have=1
      cmd=${cmd//$'\037'/$'\n'} ;;
    O)
      expected+=${expected:+$'\n'}${record:1} ;;
  esac
done <<<"$records"
(( have )) && check "$cmd" "$expected"
# Whatever a failed command left running (a detached node) is stopped.
scripts/run-node.sh --stop >/dev/null 2>&1 || true
echo "docs walkthrough: $passed passed, $failed failed"
(( failed == 0 && passed > 0 ))
