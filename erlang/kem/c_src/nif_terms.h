// Term helpers shared by the NIF's files: atoms, error tuples, reading arguments.
#pragma once

#include <erl_nif.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "kem/error.h"

namespace kem_nif {

struct Atoms {
  ERL_NIF_TERM ok, error, kem_reply, cancelled, sent, true_, false_, undefined;
  ERL_NIF_TERM entry, output_size_hint, output_size, workgroups, timeout, loop_budget, overrides;
  ERL_NIF_TERM bindings, entry_points, group, binding, name, address_space, access, type, line,
      column, workgroup_size;
  ERL_NIF_TERM calls, errors, pipeline_hits, pipeline_misses, device_losses, submissions, refused;
  ERL_NIF_TERM not_started, id, source, file, index, selector, queue_depth, healthy, in_rotation,
      retried_elsewhere, removals, retries, devices;
};
extern Atoms atoms;
void init_atoms(ErlNifEnv* env);

ERL_NIF_TERM make_binary(ErlNifEnv* env, std::string_view bytes);
// {error, {Code, Message}}; Code is the stable snake_case name of the kem::ErrorCode.
ERL_NIF_TERM make_error(ErlNifEnv* env, const kem::Error& error);
ERL_NIF_TERM make_error(ErlNifEnv* env, kem::ErrorCode code, std::string_view message);
ERL_NIF_TERM make_ok(ErlNifEnv* env, ERL_NIF_TERM value);

// A view of a binary term's bytes (refc binaries are not copied).
std::optional<std::span<const uint8_t>> get_bytes(ErlNifEnv* env, ERL_NIF_TERM term);
std::optional<uint64_t> get_u64(ErlNifEnv* env, ERL_NIF_TERM term);
// Looks `key` up in `map`; nullopt when absent.
std::optional<ERL_NIF_TERM> map_get(ErlNifEnv* env, ERL_NIF_TERM map, ERL_NIF_TERM key);

inline std::string_view as_chars(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// Runs a NIF body so that no C++ exception reaches the VM: any escaping exception becomes
// {error, {internal, What}}.
template <class F>
ERL_NIF_TERM guarded(ErlNifEnv* env, F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    return make_error(env, kem::ErrorCode::internal, e.what());
  } catch (...) {
    return make_error(env, kem::ErrorCode::internal, "unknown C++ exception");
  }
}

}  // namespace kem_nif
