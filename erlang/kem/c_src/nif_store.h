// The node's kernel store: Arweave IDs (and files) to verified WGSL source.
#pragma once

#include <erl_nif.h>

namespace kem_nif {

// nif_store_start(Options) (dirty IO): creates the store from a map unless one exists.
ERL_NIF_TERM nif_store_start(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
// nif_store_started/0: whether the store exists (cheap; normal scheduler).
ERL_NIF_TERM nif_store_started(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
// nif_resolve(id | file, Value) (dirty IO: it may fetch from a gateway) ->
//   {ok, #{source, id, origin, verification, description}} | {error, {Code, Message}}.
ERL_NIF_TERM nif_resolve(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace kem_nif
