// Stand-in for nif_store.cpp while libkem has no KernelStore yet (see CMakeLists.txt):
// {id, Id} is served from operator pins only, "<pin_dir>/<Id>.wgsl".
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>

#include "nif_store.h"
#include "nif_terms.h"

namespace kem_nif {
namespace {
std::mutex g_mutex;
std::string g_pin_dir;
bool g_started = false;
}  // namespace

ERL_NIF_TERM nif_store_start(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&] {
    std::lock_guard lock(g_mutex);
    ERL_NIF_TERM v;
    if (enif_get_map_value(env, argv[0], enif_make_atom(env, "pin_dir"), &v)) {
      auto bytes = get_bytes(env, v);
      if (!bytes) return make_error(env, kem::ErrorCode::invalid_argument, "pin_dir: text expected");
      g_pin_dir = std::string(as_chars(*bytes));
    }
    g_started = true;
    return atoms.ok;
  });
}

ERL_NIF_TERM nif_resolve(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    auto value = get_bytes(env, argv[1]);
    if (!value || !enif_is_identical(argv[0], enif_make_atom(env, "id"))) return enif_make_badarg(env);
    std::string id(as_chars(*value));
    if (id.size() != 43 || id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos)
      return make_error(env, kem::ErrorCode::invalid_argument, "not an Arweave ID: " + id);
    std::string dir;
    {
      std::lock_guard lock(g_mutex);
      dir = g_pin_dir;
    }
    std::ifstream in(dir + "/" + id + ".wgsl", std::ios::binary);
    if (dir.empty() || !in)
      return make_error(env, kem::ErrorCode::not_found, "kernel " + id + " is not pinned");
    std::ostringstream text;
    text << in.rdbuf();
    ERL_NIF_TERM map = enif_make_new_map(env);
    enif_make_map_put(env, map, enif_make_atom(env, "source"), make_binary(env, text.str()), &map);
    return make_ok(env, map);
  });
}

}  // namespace kem_nif
