#include "nif_terms.h"

#include <cstring>
#include <string>

namespace kem_nif {

Atoms atoms;

void init_atoms(ErlNifEnv* env) {
  auto a = [env](const char* name) { return enif_make_atom(env, name); };
  atoms = Atoms{
      a("ok"), a("error"), a("kem_reply"), a("cancelled"), a("sent"), a("true"), a("false"),
      a("undefined"),
      a("entry"), a("output_size_hint"), a("output_size"), a("workgroups"), a("timeout"),
      a("loop_budget"), a("overrides"),
      a("bindings"), a("entry_points"), a("group"), a("binding"), a("name"), a("address_space"),
      a("access"), a("type"), a("line"), a("column"), a("workgroup_size"),
      a("calls"), a("errors"), a("pipeline_hits"), a("pipeline_misses"), a("device_losses"),
      a("submissions"), a("refused"),
      a("not_started"), a("id"), a("source"), a("file"), a("index"), a("selector"), a("queue_depth"),
      a("healthy"), a("in_rotation"), a("retried_elsewhere"), a("removals"), a("retries"), a("devices"),
  };
}

ERL_NIF_TERM make_binary(ErlNifEnv* env, std::string_view bytes) {
  ERL_NIF_TERM term;
  unsigned char* data = enif_make_new_binary(env, bytes.size(), &term);
  if (!bytes.empty()) std::memcpy(data, bytes.data(), bytes.size());
  return term;
}

ERL_NIF_TERM make_ok(ErlNifEnv* env, ERL_NIF_TERM value) {
  return enif_make_tuple2(env, atoms.ok, value);
}

ERL_NIF_TERM make_error(ErlNifEnv* env, kem::ErrorCode code, std::string_view message) {
  std::string_view name = kem::to_string(code);
  ERL_NIF_TERM code_atom =
      enif_make_atom_len(env, name.data(), name.size());
  return enif_make_tuple2(env, atoms.error,
                          enif_make_tuple2(env, code_atom, make_binary(env, message)));
}

ERL_NIF_TERM make_error(ErlNifEnv* env, const kem::Error& error) {
  // When to try again travels in the message, at its end, where dev_kem reads it for the
  // Retry-After header: the error term keeps its {Code, Details} shape.
  if (error.retry_after.count() > 0)
    return make_error(env, error.code,
                      error.message + " (retry after " + std::to_string(error.retry_after.count()) + " ms)");
  return make_error(env, error.code, error.message);
}

std::optional<std::span<const uint8_t>> get_bytes(ErlNifEnv* env, ERL_NIF_TERM term) {
  ErlNifBinary bin;
  if (!enif_inspect_binary(env, term, &bin)) return std::nullopt;
  return std::span<const uint8_t>(bin.data, bin.size);
}

std::optional<uint64_t> get_u64(ErlNifEnv* env, ERL_NIF_TERM term) {
  ErlNifUInt64 value;
  if (!enif_get_uint64(env, term, &value)) return std::nullopt;
  return static_cast<uint64_t>(value);
}

std::optional<ERL_NIF_TERM> map_get(ErlNifEnv* env, ERL_NIF_TERM map, ERL_NIF_TERM key) {
  ERL_NIF_TERM value;
  if (!enif_get_map_value(env, map, key, &value)) return std::nullopt;
  return value;
}

}  // namespace kem_nif
