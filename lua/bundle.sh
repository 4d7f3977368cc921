#!/bin/sh
# Prints (to stdout) the single ao process script for HyperBEAM's lua@5.3a device (luerl):
#   package.loaded["kem"] = (function()\n<lua/kem.lua>\nend)()\n<lua/kem-device.lua>
# dev_lua has no require for extra files, so the helper module must travel in the same script
# text. POSIX sh and coreutils only.
#   sh lua/bundle.sh > process.lua        (the body of the process message's module)
set -eu
dir=$(dirname "$0")
for f in "$dir/kem.lua" "$dir/kem-device.lua"; do
  [ -r "$f" ] || { echo "bundle.sh: cannot read $f" >&2; exit 1; }
done
printf 'package.loaded["kem"] = (function()\n'
cat "$dir/kem.lua"
# Always a newline before "end)()" (kem.lua may lack a final one): the same bytes as
# scripts/hb/kem_hb_node.erl's lua_process_script/1.
printf '\nend)()\n'
cat "$dir/kem-device.lua"
