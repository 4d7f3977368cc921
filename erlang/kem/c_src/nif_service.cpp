#include "nif_service.h"

#include <atomic>
#include <iterator>
#include <mutex>
#include <utility>

#include "nif_settings.h"
#include "nif_terms.h"

namespace kem_nif {
namespace {

// The service lives as long as the OS process: it is never destroyed, because tearing GPU
// devices down while the VM halts (or a NIF library is purged with calls in flight) could run
// completions against a dead VM. One per node, whatever the module reloads.
std::atomic<kem::Service*> g_service{nullptr};
std::mutex g_start_mutex;

ERL_NIF_TERM not_started() { return atoms.not_started; }

ERL_NIF_TERM counters(ErlNifEnv* env, const kem::Executor::Stats& s, std::vector<ERL_NIF_TERM> keys,
                      std::vector<ERL_NIF_TERM> values) {
  for (auto [key, n] : {std::pair{atoms.calls, s.calls}, std::pair{atoms.errors, s.errors},
                        std::pair{atoms.pipeline_hits, s.pipeline_hits}, std::pair{atoms.pipeline_misses, s.pipeline_misses},
                        std::pair{atoms.device_losses, s.device_losses}, std::pair{atoms.submissions, s.submissions},
                        std::pair{atoms.refused, s.refused}}) {
    keys.push_back(key);
    values.push_back(enif_make_uint64(env, n));
  }
  ERL_NIF_TERM map;
  enif_make_map_from_arrays(env, keys.data(), values.data(), keys.size(), &map);
  return map;
}

ERL_NIF_TERM device_term(ErlNifEnv* env, size_t index, const kem::ExecutorPool::DeviceStats& d) {
  return counters(env, d.executor,
                  {atoms.index, atoms.selector, atoms.queue_depth, atoms.healthy, atoms.in_rotation,
                   atoms.retried_elsewhere, atoms.removals},
                  {enif_make_uint64(env, index), make_binary(env, d.selector), enif_make_uint64(env, d.queue_depth),
                   d.healthy ? atoms.true_ : atoms.false_, d.in_rotation ? atoms.true_ : atoms.false_,
                   enif_make_uint64(env, d.retried_elsewhere), enif_make_uint64(env, d.removals)});
}

}  // namespace

kem::Service* service() { return g_service.load(std::memory_order_acquire); }

ERL_NIF_TERM nif_start(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&] {
    std::lock_guard lock(g_start_mutex);
    if (service()) return atoms.ok;
    kem::ServiceOptions options;
    if (auto applied = apply_settings(env, argv[0], options); !applied) return make_error(env, applied.error());
    auto created = kem::Service::create(std::move(options));
    if (!created) return make_error(env, created.error());
    g_service.store(created->release(), std::memory_order_release);
    return atoms.ok;
  });
}

ERL_NIF_TERM nif_started(ErlNifEnv*, int, const ERL_NIF_TERM[]) {
  return service() ? atoms.true_ : atoms.false_;
}

ERL_NIF_TERM nif_set_trust(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&] {
    kem::Service* s = service();
    if (!s) return not_started();
    auto ids = get_texts(env, argv[0]);
    auto owners = get_texts(env, argv[1]);
    if (!ids || !owners) return enif_make_badarg(env);
    if (auto set = s->set_trust(kem::TrustPolicy{std::move(*ids), std::move(*owners)}); !set)
      return make_error(env, set.error());
    return atoms.ok;
  });
}

ERL_NIF_TERM nif_adapter_info(ErlNifEnv* env, int, const ERL_NIF_TERM[]) {
  return guarded(env, [&] {
    kem::Service* s = service();
    if (!s) return not_started();
    return make_ok(env, make_binary(env, s->adapter_info_json()));
  });
}

ERL_NIF_TERM nif_stats(ErlNifEnv* env, int, const ERL_NIF_TERM[]) {
  return guarded(env, [&] {
    kem::Service* s = service();
    if (!s) return enif_make_new_map(env);
    const kem::ExecutorPool::Stats stats = s->stats();
    ERL_NIF_TERM devices = enif_make_list(env, 0);
    for (size_t i = stats.devices.size(); i-- > 0;)
      devices = enif_make_list_cell(env, device_term(env, i, stats.devices[i]), devices);
    const kem::WorkerStats w = s->worker_stats();
    ERL_NIF_TERM worker = enif_make_new_map(env);
    auto put = [&](const char* key, ERL_NIF_TERM value) {
      enif_make_map_put(env, worker, enif_make_atom(env, key), value, &worker);
    };
    put("isolated", enif_make_atom(env, w.isolated ? "true" : "false"));
    put("pid", enif_make_long(env, w.pid));
    put("starts", enif_make_uint64(env, w.starts));
    put("crashes", enif_make_uint64(env, w.crashes));
    put("watchdog_kills", enif_make_uint64(env, w.watchdog_kills));
    put("replacements", enif_make_uint64(env, w.replacements));
    put("calls_lost", enif_make_uint64(env, w.calls_lost));
    put("last_recovery_ms", enif_make_double(env, w.last_recovery_ms));
    put("last_end", make_binary(env, w.last_end));
    ERL_NIF_TERM all = counters(env, stats.total, {atoms.retries, atoms.devices},
                                {enif_make_uint64(env, stats.retries), devices});
    enif_make_map_put(env, all, enif_make_atom(env, "worker"), worker, &all);
    const kem::KernelAdmission::Stats a = s->admission_stats();
    ERL_NIF_TERM admission = enif_make_new_map(env);
    for (auto [key, value] : {std::pair{"sandbox_runs", a.sandbox_runs}, {"admitted", a.admitted}, {"refused", a.refused},
                              {"failures", a.failures}, {"cache_hits", a.cache_hits}, {"shared_runs", a.shared_runs}})
      enif_make_map_put(env, admission, enif_make_atom(env, key), enif_make_uint64(env, value), &admission);
    enif_make_map_put(env, all, enif_make_atom(env, "admission"), admission, &all);
    return all;
  });
}

ERL_NIF_TERM nif_simulate_device_loss(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&] {
    kem::Service* s = service();
    if (!s) return not_started();
    auto index = get_u64(env, argv[0]);
    if (!index) return enif_make_badarg(env);
    if (*index >= s->device_count())
      return make_error(env, kem::ErrorCode::invalid_argument,
                        "device " + std::to_string(*index) + " does not exist (" + std::to_string(s->device_count()) +
                            " devices)");
    s->simulate_device_loss(static_cast<size_t>(*index));
    return atoms.ok;
  });
}

}  // namespace kem_nif
