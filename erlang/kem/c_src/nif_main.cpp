// kem_nif: the NIF library behind erlang/kem/src/kem_nif.erl. Every function returns a term
// (never throws into the VM); anything that waits or computes for long runs on a dirty
// scheduler, and kernel calls do not block a scheduler at all (see nif_submit.h).
#include <erl_nif.h>

#include "nif_check.h"
#include "nif_jpeg.h"
#include "nif_png.h"
#include "nif_execute.h"
#include "nif_service.h"
#include "nif_settings.h"
#include "nif_store.h"
#include "nif_terms.h"

namespace {

ERL_NIF_TERM nif_hello(ErlNifEnv* env, int, const ERL_NIF_TERM[]) {
  return kem_nif::make_binary(env, "Hello world!");
}

int load(ErlNifEnv* env, void**, ERL_NIF_TERM) {
  kem_nif::init_atoms(env);
  return kem_nif::open_job_resource(env, ERL_NIF_RT_CREATE) ? 0 : 1;
}

int upgrade(ErlNifEnv* env, void**, void**, ERL_NIF_TERM) {
  kem_nif::init_atoms(env);
  return kem_nif::open_job_resource(
             env, static_cast<ErlNifResourceFlags>(ERL_NIF_RT_CREATE | ERL_NIF_RT_TAKEOVER))
             ? 0
             : 1;
}

constexpr auto kDirtyIo = ERL_NIF_DIRTY_JOB_IO_BOUND;
constexpr auto kDirtyCpu = ERL_NIF_DIRTY_JOB_CPU_BOUND;

ErlNifFunc nif_funcs[] = {
    {"hello", 0, nif_hello, 0},
    {"nif_settings", 0, kem_nif::nif_settings, 0},
    {"nif_start", 1, kem_nif::nif_start, kDirtyIo},
    {"nif_started", 0, kem_nif::nif_started, 0},
    {"nif_set_trust", 2, kem_nif::nif_set_trust, 0},
    {"nif_adapter_info", 0, kem_nif::nif_adapter_info, kDirtyIo},
    {"nif_stats", 0, kem_nif::nif_stats, 0},
    {"nif_simulate_device_loss", 1, kem_nif::nif_simulate_device_loss, kDirtyIo},
    {"nif_execute", 6, kem_nif::nif_execute, 0},
    {"nif_cancel", 1, kem_nif::nif_cancel, 0},
    {"nif_check", 3, kem_nif::nif_check, kDirtyIo},
    {"nif_resolve", 2, kem_nif::nif_resolve, kDirtyIo},
    {"nif_png_decode", 2, kem_nif::nif_png_decode, kDirtyCpu},
    {"nif_png_encode", 3, kem_nif::nif_png_encode, kDirtyCpu},
    {"nif_jpeg_decode", 2, kem_nif::nif_jpeg_decode, kDirtyCpu},
};

}  // namespace

ERL_NIF_INIT(kem_nif, nif_funcs, load, nullptr, upgrade, nullptr)
