// Reading a kernel reference from its Erlang form: Kind (id | source | file) and a binary.
#pragma once

#include <erl_nif.h>

#include <optional>

#include "kem/kernel_store.h"

namespace kem_nif {

std::optional<kem::KernelRef> get_kernel_ref(ErlNifEnv* env, ERL_NIF_TERM kind, ERL_NIF_TERM value);

}  // namespace kem_nif
