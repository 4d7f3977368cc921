// The node's one kem::Service (store, every GPU, trust policy), created on first use from the
// kem application's settings, and the NIFs that describe or steer it.
#pragma once

#include <erl_nif.h>

#include "kem/service.h"

namespace kem_nif {

// The service, or nullptr until nif_start succeeded. Safe from any thread.
kem::Service* service();

// nif_start(#{Setting => Value}) (dirty IO): creates the service unless one exists. Keys are
// the settings of kem/settings.h; values as nif_settings.h reads them.
ERL_NIF_TERM nif_start(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
// nif_started/0: whether the service exists (an atomic load; normal scheduler).
ERL_NIF_TERM nif_started(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
// nif_set_trust(UnmeteredIds, UnmeteredOwners): the allow-lists for calls from now on.
ERL_NIF_TERM nif_set_trust(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
// nif_adapter_info/0 (dirty IO): {ok, Json} (Service::adapter_info_json) | not_started.
ERL_NIF_TERM nif_adapter_info(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
// nif_stats/0: #{calls, errors, pipeline_hits, pipeline_misses, device_losses, submissions,
// retries, devices => [#{index, selector, queue_depth, healthy, in_rotation, calls, ...}]};
// #{} before start.
ERL_NIF_TERM nif_stats(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
// nif_simulate_device_loss(Index) (dirty IO): the pool's test hook.
ERL_NIF_TERM nif_simulate_device_loss(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace kem_nif
