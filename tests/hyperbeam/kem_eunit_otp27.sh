#!/usr/bin/env bash
# KEM's EUnit suites (erlang/kem/test) on OTP 27, against HyperBEAM's real hb_ao and hb_json
# and the NIF built for it: the HyperBEAM build in build-hb/HyperBEAM (scripts/hb/build.sh)
# supplies kem's ebin and priv/kem_nif.so; the test-only stand-ins hb_ao.erl and hb_json.erl
# are left out. Runs in the OTP 27 environment of scripts/hb/chroot.sh (a trixie chroot where
# the host's OTP is older). Exits non-zero when a test fails.
# Usage: tests/hyperbeam/kem_eunit_otp27.sh
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck disable=SC2034  # hb_root is read by scripts/hb/chroot.sh
hb_root=$root
# shellcheck source=scripts/hb/chroot.sh
source "$root/scripts/hb/chroot.sh"

build=$root/build-hb/HyperBEAM/_build/default
hb_ebin=$build/lib/hb/ebin
kem_priv=$build/checkouts/kem/priv
out=$root/build-hb/kem-eunit/ebin

[[ -f $hb_ebin/hb_ao.beam && -f $hb_ebin/hb_json.beam ]] ||
  { echo "no HyperBEAM build at $build (scripts/hb/build.sh)" >&2; exit 1; }
[[ -f $kem_priv/kem_nif.so && -f $build/checkouts/kem/ebin/kem.app ]] ||
  { echo "no kem checkout build (ebin, priv/kem_nif.so) under $build/checkouts/kem" >&2; exit 1; }

hb_env_ready

# Every suite and helper except the stand-ins for HyperBEAM's modules.
sources=()
for f in "$root"/erlang/kem/test/*.erl; do
  case ${f##*/} in hb_ao.erl | hb_json.erl) ;; *) sources+=("$f") ;; esac
done
mods=()
for f in "${sources[@]}"; do
  m=${f##*/}; m=${m%.erl}
  [[ $m == *_tests ]] && mods+=("$m")
done
(( ${#mods[@]} )) || { echo "no *_tests modules in erlang/kem/test" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
incl=()
[[ -d $root/erlang/kem/include ]] && incl=(-I "$root/erlang/kem/include")
# As the project's rebar.config (debug_info, warnings_as_errors; nowarn_export_all in the test
# profile), with kem's ebin on the path for its behaviours and records.
compile=(erlc -DTEST +debug_info +warnings_as_errors +nowarn_export_all "${incl[@]}"
         -pa "$build/checkouts/kem/ebin" -o "$out" "${sources[@]}")

# The suites' ebin goes last (-pz): code:lib_dir(kem) takes the first code path entry named
# kem or kem-VSN, and build-hb/kem-eunit/ebin would read as kem version "eunit".
pa=(-pa "$build"/lib/*/ebin "$build"/checkouts/*/ebin -pz "$out")
mod_list=$(IFS=,; echo "${mods[*]}")
# In the VM: hb_ao and hb_json must be HyperBEAM's, kem's priv the checkout's; then the suites.
eval_expr="
Abs = fun(P) -> filename:absname(P) end,
Fail = fun(Fmt, Args) -> io:format(standard_error, \"kem_eunit_otp27: \" ++ Fmt ++ \"~n\", Args),
                         halt(3) end,
lists:foreach(fun(M) ->
    case code:which(M) of
        P when is_list(P) ->
            case filename:dirname(Abs(P)) =:= Abs(\"$hb_ebin\") of
                true -> io:format(\"~s: ~s~n\", [M, P]);
                false -> Fail(\"~s is ~s, not HyperBEAM's (~s)\", [M, P, \"$hb_ebin\"])
            end;
        Other -> Fail(\"~s not found (~p)\", [M, Other])
    end
end, [hb_ao, hb_json]),
case code:priv_dir(kem) of
    Priv when is_list(Priv) ->
        case Abs(Priv) =:= Abs(\"$kem_priv\") of
            true -> io:format(\"kem priv: ~s~n\", [Priv]);
            false -> Fail(\"code:priv_dir(kem) is ~s, not ~s\", [Priv, \"$kem_priv\"])
        end;
    Other -> Fail(\"code:priv_dir(kem): ~p\", [Other])
end,
io:format(\"OTP ~s~n\", [erlang:system_info(otp_release)]),
case eunit:test([$mod_list], [verbose]) of
    ok -> halt(0);
    error -> halt(1);
    R -> io:format(standard_error, \"eunit:test returned ~p~n\", [R]), halt(2)
end."
run=(erl -noshell "${pa[@]}" -eval "$eval_expr")

start=$SECONDS
status=0
hb_exec "$(printf '%q ' "${compile[@]}") && $(printf '%q ' "${run[@]}")" || status=$?
echo "kem_eunit_otp27: ${#mods[@]} suites, exit $status, $((SECONDS - start)) s"
exit "$status"
