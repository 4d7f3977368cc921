// The service's kernel store seen from Erlang: where a kernel comes from and how it was proven.
#pragma once

#include <erl_nif.h>

namespace kem_nif {

// nif_resolve(Kind, Value) (dirty IO: it may fetch from a gateway), Kind id | file | source ->
//   {ok, #{source, id, owner_address, origin, verification, description}}
//   | {error, {Code, Message}} | not_started.
ERL_NIF_TERM nif_resolve(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace kem_nif
