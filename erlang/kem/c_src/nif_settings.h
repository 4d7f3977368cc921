// The settings table (kem/settings.h) in Erlang terms: the defaults kem_config reads, and the
// settings map nif_start applies.
#pragma once

#include <erl_nif.h>

#include "kem/settings.h"

namespace kem_nif {

// nif_settings/0: [#{name => atom(), kind => atom(), group => atom(), default => term(),
// meaning => binary()}] in the table's order. Defaults: true/false, integers, binaries, lists
// of binaries, and atoms for choices and `auto`.
ERL_NIF_TERM nif_settings(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

// Applies every Setting => Value of `map` to `options`: true/false, non-negative integers,
// binaries, atoms (read as their names) and lists of binaries.
kem::Status apply_settings(ErlNifEnv* env, ERL_NIF_TERM map, kem::ServiceOptions& options);

// A list of binaries as texts; nullopt for anything else.
std::optional<std::vector<std::string>> get_texts(ErlNifEnv* env, ERL_NIF_TERM list);

}  // namespace kem_nif
