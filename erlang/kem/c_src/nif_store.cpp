#include "nif_store.h"

#include <atomic>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>

#include "kem/kernel_store.h"
#include "nif_terms.h"

namespace kem_nif {
namespace {

// Like the executor (nif_node.cpp), the store lives as long as the OS process.
std::atomic<kem::KernelStore*> g_store{nullptr};
std::mutex g_start_mutex;

kem::Error bad(std::string what) {
  return kem::make_error(kem::ErrorCode::invalid_argument, "kernel store option " + what);
}

kem::Result<std::string> text(ErlNifEnv* env, ERL_NIF_TERM term, const char* what) {
  auto bytes = get_bytes(env, term);
  if (!bytes) return bad(std::string(what) + ": text expected");
  return std::string(as_chars(*bytes));
}

kem::Result<std::vector<std::string>> texts(ErlNifEnv* env, ERL_NIF_TERM list, const char* what) {
  std::vector<std::string> out;
  ERL_NIF_TERM head;
  while (enif_get_list_cell(env, list, &head, &list)) {
    auto t = text(env, head, what);
    if (!t) return t.take_error();
    out.push_back(std::move(*t));
  }
  if (!enif_is_empty_list(env, list)) return bad(std::string(what) + ": a list expected");
  return out;
}

kem::Result<bool> boolean(ErlNifEnv* env, ERL_NIF_TERM term, const char* what) {
  if (enif_is_identical(term, atoms.true_)) return true;
  if (enif_is_identical(term, atoms.false_)) return false;
  (void)env;
  return bad(std::string(what) + ": true or false expected");
}

kem::Result<kem::StoreOptions> read_options(ErlNifEnv* env, ERL_NIF_TERM map) {
  kem::StoreOptions o;
  if (!enif_is_map(env, map)) return bad("map expected");
  auto key = [env](const char* name) { return enif_make_atom(env, name); };
  auto field = [&](const char* name) { return map_get(env, map, key(name)); };
  if (auto v = field("gateways")) {
    auto t = texts(env, *v, "gateways");
    if (!t) return t.take_error();
    o.gateways = std::move(*t);
  }
  if (auto v = field("allowed_owners")) {
    auto t = texts(env, *v, "allowed_owners");
    if (!t) return t.take_error();
    o.allowed_owners = std::move(*t);
  }
  for (auto [name, out] : {std::pair{"cache_dir", &o.cache_dir}, std::pair{"pin_dir", &o.pin_dir}}) {
    if (auto v = field(name)) {
      auto t = text(env, *v, name);
      if (!t) return t.take_error();
      *out = std::move(*t);
    }
  }
  for (auto [name, out] : {std::pair{"disk_cache", &o.disk_cache}, std::pair{"offline", &o.offline}}) {
    if (auto v = field(name)) {
      auto b = boolean(env, *v, name);
      if (!b) return b.take_error();
      *out = *b;
    }
  }
  if (auto v = field("verify")) {
    if (enif_is_identical(*v, key("required"))) o.verify = kem::VerifyPolicy::required;
    else if (enif_is_identical(*v, key("off"))) o.verify = kem::VerifyPolicy::off;
    else return bad("verify: required or off expected");
  }
  if (auto v = field("max_source_bytes")) {
    auto n = get_u64(env, *v);
    if (!n) return bad("max_source_bytes: a non-negative integer expected");
    o.max_source_bytes = static_cast<std::size_t>(*n);
  }
  for (auto [name, out] : {std::pair{"connect_timeout", &o.connect_timeout},
                           std::pair{"request_timeout", &o.request_timeout},
                           std::pair{"backoff_initial", &o.backoff_initial},
                           std::pair{"backoff_max", &o.backoff_max},
                           std::pair{"negative_ttl", &o.negative_ttl}}) {
    if (auto v = field(name)) {
      auto n = get_u64(env, *v);
      if (!n || *n > 86400000) return bad(std::string(name) + ": milliseconds expected");
      *out = std::chrono::milliseconds(*n);
    }
  }
  return o;
}

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

ERL_NIF_TERM nif_store_start(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&] {
    std::lock_guard lock(g_start_mutex);
    if (g_store.load(std::memory_order_acquire)) return atoms.ok;
    auto options = read_options(env, argv[0]);
    if (!options) return make_error(env, options.error());
    auto created = kem::KernelStore::create(std::move(*options));
    if (!created) return make_error(env, created.error());
    g_store.store(created->release(), std::memory_order_release);
    return atoms.ok;
  });
}

ERL_NIF_TERM nif_store_started(ErlNifEnv*, int, const ERL_NIF_TERM[]) {
  return g_store.load(std::memory_order_acquire) ? atoms.true_ : atoms.false_;
}

ERL_NIF_TERM nif_resolve(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    auto value = get_bytes(env, argv[1]);
    if (!value) return enif_make_badarg(env);
    kem::KernelRef ref;
    if (enif_is_identical(argv[0], enif_make_atom(env, "id")))
      ref = kem::KernelRef::id(std::string(as_chars(*value)));
    else if (enif_is_identical(argv[0], enif_make_atom(env, "file")))
      ref = kem::KernelRef::file(std::string(as_chars(*value)));
    else
      return enif_make_badarg(env);
    kem::KernelStore* store = g_store.load(std::memory_order_acquire);
    if (!store) return make_error(env, kem::ErrorCode::unavailable, "the kernel store is not started");
    auto resolved = store->resolve(ref);
    if (!resolved) return make_error(env, resolved.error());
    return make_ok(env, resolved_term(env, *resolved));
  });
}

}  // namespace kem_nif
