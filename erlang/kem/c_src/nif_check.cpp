#include "nif_check.h"

#include "kem/reflection.h"
#include "nif_kernel_ref.h"
#include "nif_service.h"
#include "nif_terms.h"

namespace kem_nif {
namespace {

ERL_NIF_TERM make_map(ErlNifEnv* env, ERL_NIF_TERM* keys, ERL_NIF_TERM* values,
                      size_t n) {
  ERL_NIF_TERM map;
  enif_make_map_from_arrays(env, keys, values, n, &map);
  return map;
}

ERL_NIF_TERM atom_of(ErlNifEnv* env, std::string_view name) {
  return enif_make_atom_len(env, name.data(), name.size());
}

ERL_NIF_TERM binding_term(ErlNifEnv* env, const kem::ResourceBinding& b) {
  ERL_NIF_TERM keys[] = {atoms.group, atoms.binding, atoms.name, atoms.address_space,
                         atoms.access, atoms.type, atoms.line, atoms.column};
  ERL_NIF_TERM values[] = {enif_make_uint(env, b.group), enif_make_uint(env, b.binding),
                           make_binary(env, b.name), atom_of(env, kem::to_string(b.address_space)),
                           atom_of(env, kem::to_string(b.access)), make_binary(env, b.type),
                           enif_make_uint(env, b.line), enif_make_uint(env, b.column)};
  return make_map(env, keys, values, 8);
}

ERL_NIF_TERM entry_term(ErlNifEnv* env, const kem::EntryPoint& e) {
  ERL_NIF_TERM size = enif_make_tuple3(env, enif_make_uint(env, e.workgroup_size[0]),
                                       enif_make_uint(env, e.workgroup_size[1]),
                                       enif_make_uint(env, e.workgroup_size[2]));
  ERL_NIF_TERM keys[] = {atoms.name, atoms.workgroup_size, atoms.line, atoms.column};
  ERL_NIF_TERM values[] = {make_binary(env, e.name), size, enif_make_uint(env, e.line),
                           enif_make_uint(env, e.column)};
  return make_map(env, keys, values, 4);
}

ERL_NIF_TERM reflection_term(ErlNifEnv* env, const kem::Reflection& r) {
  ERL_NIF_TERM bindings = enif_make_list(env, 0);
  for (auto it = r.bindings.rbegin(); it != r.bindings.rend(); ++it)
    bindings = enif_make_list_cell(env, binding_term(env, *it), bindings);
  ERL_NIF_TERM entries = enif_make_list(env, 0);
  for (auto it = r.entry_points.rbegin(); it != r.entry_points.rend(); ++it)
    entries = enif_make_list_cell(env, entry_term(env, *it), entries);
  ERL_NIF_TERM keys[] = {atoms.bindings, atoms.entry_points};
  ERL_NIF_TERM values[] = {bindings, entries};
  return make_map(env, keys, values, 2);
}

}  // namespace

ERL_NIF_TERM nif_check(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    auto kernel = get_kernel_ref(env, argv[0], argv[1]);
    auto entry = get_bytes(env, argv[2]);
    if (!kernel || !entry) return enif_make_badarg(env);
    kem::Service* svc = service();
    if (!svc) return atoms.not_started;
    auto reflection = svc->check(*kernel, as_chars(*entry));
    if (!reflection) return make_error(env, reflection.error());
    return make_ok(env, reflection_term(env, *reflection));
  });
}

}  // namespace kem_nif
