// The node's one executor (and, later, kernel store), created on first use.
#pragma once

#include <erl_nif.h>

#include "kem/executor.h"

namespace kem_nif {

// The executor, or nullptr until start() succeeded. Safe from any thread.
kem::Executor* executor();

// NIF start/1 (dirty IO): creates the executor from a map of options unless one exists.
ERL_NIF_TERM nif_start(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
// NIF nif_started/0: whether the executor exists (cheap; normal scheduler).
ERL_NIF_TERM nif_started(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
// NIF adapter_info_json/0 (dirty IO): {ok, Json} | {error, {no_adapter, _}} before start.
ERL_NIF_TERM nif_adapter_info(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
// NIF stats/0: executor counters as a map.
ERL_NIF_TERM nif_stats(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
// NIF simulate_device_loss/0 (dirty IO), the executor's test hook.
ERL_NIF_TERM nif_simulate_device_loss(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace kem_nif
