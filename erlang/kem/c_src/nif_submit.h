// Asynchronous kernel calls: submit/5 queues a call on the executor and returns at once; the
// result arrives as the message {kem_reply, Ref, {ok, Output} | {error, {Code, Message}}}.
#pragma once

#include <erl_nif.h>

namespace kem_nif {

// Opens the resource type of in-flight calls (load and upgrade).
bool open_job_resource(ErlNifEnv* env, ErlNifResourceFlags flags);

// submit(Ref, Source, Input, Params, Opts) -> {ok, Job} | {error, {Code, Message}}.
ERL_NIF_TERM nif_submit(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);
// cancel(Job) -> cancelled (no reply will come) | sent (the reply is in the mailbox).
ERL_NIF_TERM nif_cancel(ErlNifEnv* env, int argc, const ERL_NIF_TERM argv[]);

}  // namespace kem_nif
