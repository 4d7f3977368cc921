#include "nif_node.h"

#include <atomic>
#include <mutex>

#include "nif_terms.h"

namespace kem_nif {
namespace {

// The executor lives as long as the OS process: it is never destroyed, because tearing a
// GPU device down while the VM halts (or a NIF library is purged with calls in flight)
// could run completions against a dead VM. One per node, whatever the module reloads.
std::atomic<kem::Executor*> g_executor{nullptr};
std::mutex g_start_mutex;

kem::Result<kem::ExecutorOptions> read_options(ErlNifEnv* env, ERL_NIF_TERM map) {
  kem::ExecutorOptions options;
  if (!enif_is_map(env, map))
    return kem::make_error(kem::ErrorCode::invalid_argument, "executor options must be a map");
  if (auto v = map_get(env, map, atoms.adapter)) {
    auto bytes = get_bytes(env, *v);
    if (!bytes) return kem::make_error(kem::ErrorCode::invalid_argument, "adapter: binary");
    options.adapter = std::string(as_chars(*bytes));
  }
  auto read_u64 = [&](ERL_NIF_TERM key, uint64_t& out, const char* what) -> kem::Status {
    if (auto v = map_get(env, map, key)) {
      auto n = get_u64(env, *v);
      if (!n) return kem::make_error(kem::ErrorCode::invalid_argument,
                                     std::string(what) + ": non-negative integer");
      out = *n;
    }
    return {};
  };
  uint64_t timeout_ms = static_cast<uint64_t>(options.default_timeout.count());
  uint64_t cache = options.pipeline_cache_capacity;
  for (auto status : {read_u64(atoms.max_output_bytes, options.max_output_bytes, "max_output_bytes"),
                      read_u64(atoms.max_input_bytes, options.max_input_bytes, "max_input_bytes"),
                      read_u64(atoms.timeout, timeout_ms, "timeout"),
                      read_u64(atoms.pipeline_cache_capacity, cache, "pipeline_cache_capacity")})
    if (!status) return status.take_error();
  uint64_t budget = options.loop_budget;
  if (auto status = read_u64(atoms.loop_budget, budget, "loop_budget"); !status)
    return status.take_error();
  if (budget > UINT32_MAX)
    return kem::make_error(kem::ErrorCode::invalid_argument, "loop_budget: at most 2^32 - 1");
  options.loop_budget = static_cast<uint32_t>(budget);
  if (auto v = map_get(env, map, atoms.metering)) {
    if (enif_is_identical(*v, atoms.true_)) options.metering = true;
    else if (enif_is_identical(*v, atoms.false_)) options.metering = false;
    else return kem::make_error(kem::ErrorCode::invalid_argument, "metering: true or false");
  }
  options.default_timeout = std::chrono::milliseconds(timeout_ms);
  options.pipeline_cache_capacity = static_cast<size_t>(cache);
  return options;
}

}  // namespace

kem::Executor* executor() { return g_executor.load(std::memory_order_acquire); }

ERL_NIF_TERM nif_start(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&] {
    std::lock_guard lock(g_start_mutex);
    if (executor()) return atoms.ok;
    auto options = read_options(env, argv[0]);
    if (!options) return make_error(env, options.error());
    auto created = kem::Executor::create(std::move(*options));
    if (!created) return make_error(env, created.error());
    g_executor.store(created->release(), std::memory_order_release);
    return atoms.ok;
  });
}

ERL_NIF_TERM nif_started(ErlNifEnv*, int, const ERL_NIF_TERM[]) {
  return executor() ? atoms.true_ : atoms.false_;
}

ERL_NIF_TERM nif_adapter_info(ErlNifEnv* env, int, const ERL_NIF_TERM[]) {
  return guarded(env, [&] {
    kem::Executor* ex = executor();
    if (!ex) return make_error(env, kem::ErrorCode::no_adapter, "the executor is not started");
    return make_ok(env, make_binary(env, ex->adapter_info_json()));
  });
}

ERL_NIF_TERM nif_stats(ErlNifEnv* env, int, const ERL_NIF_TERM[]) {
  return guarded(env, [&] {
    kem::Executor* ex = executor();
    kem::Executor::Stats s = ex ? ex->stats() : kem::Executor::Stats{};
    ERL_NIF_TERM keys[] = {atoms.calls, atoms.errors, atoms.pipeline_hits, atoms.pipeline_misses,
                           atoms.device_losses};
    ERL_NIF_TERM values[] = {
        enif_make_uint64(env, s.calls), enif_make_uint64(env, s.errors),
        enif_make_uint64(env, s.pipeline_hits), enif_make_uint64(env, s.pipeline_misses),
        enif_make_uint64(env, s.device_losses)};
    ERL_NIF_TERM map;
    enif_make_map_from_arrays(env, keys, values, 5, &map);
    return map;
  });
}

ERL_NIF_TERM nif_simulate_device_loss(ErlNifEnv* env, int, const ERL_NIF_TERM[]) {
  return guarded(env, [&] {
    kem::Executor* ex = executor();
    if (!ex) return make_error(env, kem::ErrorCode::no_adapter, "the executor is not started");
    ex->simulate_device_loss();
    return atoms.ok;
  });
}

}  // namespace kem_nif
