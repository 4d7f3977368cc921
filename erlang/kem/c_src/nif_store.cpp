#include "nif_store.h"

#include <iterator>
#include <string>

#include "kem/kernel_store.h"
#include "nif_kernel_ref.h"
#include "nif_service.h"
#include "nif_terms.h"

namespace kem_nif {
namespace {

ERL_NIF_TERM atom_of(ErlNifEnv* env, std::string_view name) {
  return enif_make_atom_len(env, name.data(), name.size());
}

// owner_address is <<>> unless the store verified the kernel's signature: only then can an
// operator's allow-list of publishers (kem's unmetered_owners) apply to it.
ERL_NIF_TERM resolved_term(ErlNifEnv* env, const kem::ResolvedKernel& k) {
  ERL_NIF_TERM keys[] = {enif_make_atom(env, "source"), enif_make_atom(env, "id"),
                         enif_make_atom(env, "owner_address"), enif_make_atom(env, "origin"),
                         enif_make_atom(env, "verification"), enif_make_atom(env, "description")};
  ERL_NIF_TERM values[] = {make_binary(env, k.source), make_binary(env, k.id),
                           make_binary(env, k.owner_address), atom_of(env, kem::to_string(k.origin)),
                           atom_of(env, kem::to_string(k.verification)),
                           make_binary(env, k.describe())};
  ERL_NIF_TERM map;
  enif_make_map_from_arrays(env, keys, values, std::size(keys), &map);
  return map;
}

}  // namespace

ERL_NIF_TERM nif_resolve(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    auto kernel = get_kernel_ref(env, argv[0], argv[1]);
    if (!kernel) return enif_make_badarg(env);
    kem::Service* svc = service();
    if (!svc) return atoms.not_started;
    auto resolved = svc->resolve(*kernel);
    if (!resolved) return make_error(env, resolved.error());
    return make_ok(env, resolved_term(env, *resolved));
  });
}

}  // namespace kem_nif
