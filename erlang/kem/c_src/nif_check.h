// nif_check(Kind, Value, Entry) (dirty IO: it may fetch the kernel and compiles it) ->
//   {ok, #{bindings, entry_points}} | {error, {Code, Message}} | not_started.
#pragma once

#include <erl_nif.h>

namespace kem_nif {

ERL_NIF_TERM nif_check(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace kem_nif
