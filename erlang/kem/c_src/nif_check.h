// check/2: compiles a kernel through the executor's pipeline cache and returns its reflection.
#pragma once

#include <erl_nif.h>

namespace kem_nif {

// check(Source, Entry) -> {ok, #{bindings := [...], entry_points := [...]}}
//                       | {error, {compile_error, <<"LINE:COL: ...">>}} | {error, ...}.
// Runs on a dirty IO scheduler: it waits for the GPU thread to compile.
ERL_NIF_TERM nif_check(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace kem_nif
