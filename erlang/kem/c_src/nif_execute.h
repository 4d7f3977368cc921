// Asynchronous kernel calls, one NIF crossing each: nif_execute/6 hands the kernel reference,
// input and options to kem::Service and returns at once; the result arrives as the message
// {kem_reply, Ref, {ok, Output} | {error, {Code, Message}}}. Warm kernels (inline, pinned, in
// the store's memory) are queued from the calling scheduler thread in microseconds; others are
// resolved on the service's fetch threads, so no scheduler ever waits on a gateway.
#pragma once

#include <erl_nif.h>

namespace kem_nif {

// Opens the resource type of in-flight calls (load and upgrade).
bool open_job_resource(ErlNifEnv* env, ErlNifResourceFlags flags);

// nif_execute(Ref, Kind, Value, Input, Params, Opts) with Kind id | source | file ->
//   {ok, Job} | {error, {Code, Message}} | not_started (start the service, then call again).
ERL_NIF_TERM nif_execute(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
// cancel(Job) -> cancelled (no reply will come) | sent (the reply is in the mailbox).
ERL_NIF_TERM nif_cancel(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace kem_nif
