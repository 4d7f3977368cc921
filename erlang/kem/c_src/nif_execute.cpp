#include "nif_execute.h"

#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <string>

#include "kem/service.h"
#include "nif_kernel_ref.h"
#include "nif_service.h"
#include "nif_terms.h"

namespace kem_nif {
namespace {

// The Erlang-visible handle of one call, shared by the completion and the waiting process,
// so that a caller that gave up (timeout) can make sure no late reply reaches its mailbox.
struct Job {
  std::mutex mutex;
  bool cancelled = false;
  bool sent = false;
};

ErlNifResourceType* g_job_type = nullptr;

void destroy_job(ErlNifEnv*, void* object) { static_cast<Job*>(object)->~Job(); }

// Set while this thread is inside submit(): a completion that the executor runs synchronously
// (a request rejected before queueing) must pass the caller's env to enif_send; on the GPU
// thread it stays null, as enif_send requires there.
thread_local ErlNifEnv* t_caller_env = nullptr;

struct CallerEnvScope {
  explicit CallerEnvScope(ErlNifEnv* env) { t_caller_env = env; }
  ~CallerEnvScope() { t_caller_env = nullptr; }
};

// Everything a call's completion needs. The env holds copies of the argument terms (for refc
// binaries a copy shares the bytes), keeping the request's views alive until the completion ran.
struct Call {
  ErlNifEnv* env = enif_alloc_env();
  ErlNifPid pid{};
  ERL_NIF_TERM ref{};
  Job* job = nullptr;
  // The output binary, allocated by the executor's output_into on the GPU thread (enif_alloc_binary
  // may be called from any thread), so the output is copied once: out of GPU memory, into it.
  ErlNifBinary output{};
  bool output_allocated = false;

  Call() = default;
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;
  ~Call() {
    if (output_allocated) enif_release_binary(&output);  // the call failed after allocating
    if (job) enif_release_resource(job);
    enif_free_env(env);
  }
};

ERL_NIF_TERM output_term(ErlNifEnv* env, Call& call, kem::Result<kem::OutputView>& result) {
  if (!result) return make_error(env, result.error());
  const kem::OutputView view = *result;
  if (call.output_allocated && view.data() == call.output.data && view.size() == call.output.size) {
    call.output_allocated = false;  // owned by the term from here
    return make_ok(env, enif_make_binary(env, &call.output));
  }
  ErlNifBinary bin;
  // enif_alloc_binary reports failure, where enif_make_new_binary would abort the VM.
  if (!enif_alloc_binary(view.size(), &bin))
    return make_error(env, kem::ErrorCode::limit_exceeded,
                      "cannot allocate an output binary of " + std::to_string(view.size()) +
                          " bytes");
  if (!view.empty()) std::memcpy(bin.data, view.data(), view.size());
  return make_ok(env, enif_make_binary(env, &bin));
}

void complete(Call& call, kem::Result<kem::OutputView>& result) {
  ErlNifEnv* msg_env = enif_alloc_env();
  ERL_NIF_TERM reply;
  try {
    reply = output_term(msg_env, call, result);
  } catch (...) {
    reply = make_error(msg_env, kem::ErrorCode::internal, "failed to build the reply");
  }
  ERL_NIF_TERM msg = enif_make_tuple3(msg_env, atoms.kem_reply,
                                      enif_make_copy(msg_env, call.ref), reply);
  {
    std::lock_guard lock(call.job->mutex);
    if (!call.job->cancelled) {
      // A dead receiver is fine: the message is dropped.
      enif_send(t_caller_env, &call.pid, msg_env, msg);
      call.job->sent = true;
    }
  }
  enif_free_env(msg_env);
}

bool read_options(ErlNifEnv* env, ERL_NIF_TERM opts, kem::KernelRequest& request) {
  if (!enif_is_map(env, opts)) return false;
  if (auto v = map_get(env, opts, atoms.entry)) {
    auto bytes = get_bytes(env, *v);
    if (!bytes) return false;
    request.entry = std::string(as_chars(*bytes));
  }
  if (auto v = map_get(env, opts, atoms.output_size_hint)) {
    auto n = get_u64(env, *v);
    if (!n) return false;
    request.output_size_hint = *n;
  }
  if (auto v = map_get(env, opts, atoms.output_size)) {
    auto n = get_u64(env, *v);
    if (!n) return false;
    request.output_size = *n;
  }
  if (auto v = map_get(env, opts, atoms.workgroups)) {
    int arity;
    const ERL_NIF_TERM* dims;
    if (!enif_get_tuple(env, *v, &arity, &dims) || arity != 3) return false;
    std::array<uint32_t, 3> groups{};
    for (int i = 0; i < 3; ++i) {
      unsigned int n;
      if (!enif_get_uint(env, dims[i], &n)) return false;
      groups[i] = n;
    }
    request.workgroups = groups;
  }
  if (auto v = map_get(env, opts, atoms.loop_budget)) {
    auto n = get_u64(env, *v);
    if (!n) return false;
    request.loop_budget = *n;
  }
  if (auto v = map_get(env, opts, atoms.overrides)) {
    // [{Key :: binary(), Value :: float()}], as kem_request:options/1 makes it; libkem checks the
    // keys and values against the kernel's declarations.
    ERL_NIF_TERM list = *v, head;
    while (enif_get_list_cell(env, list, &head, &list)) {
      int arity;
      const ERL_NIF_TERM* pair;
      double value;
      if (!enif_get_tuple(env, head, &arity, &pair) || arity != 2 || !enif_get_double(env, pair[1], &value))
        return false;
      auto key = get_bytes(env, pair[0]);
      if (!key) return false;
      request.overrides.emplace_back(std::string(as_chars(*key)), value);
    }
    if (!enif_is_empty_list(env, list)) return false;
  }
  if (auto v = map_get(env, opts, atoms.timeout)) {
    auto n = get_u64(env, *v);
    if (!n || *n > static_cast<uint64_t>(INT64_MAX)) return false;
    request.timeout = std::chrono::milliseconds(static_cast<int64_t>(*n));
  }
  return true;
}

}  // namespace

bool open_job_resource(ErlNifEnv* env, ErlNifResourceFlags flags) {
  g_job_type = enif_open_resource_type(env, nullptr, "kem_job", destroy_job, flags, nullptr);
  return g_job_type != nullptr;
}

ERL_NIF_TERM nif_execute(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  return guarded(env, [&]() -> ERL_NIF_TERM {
    if (!enif_is_ref(env, argv[0])) return enif_make_badarg(env);
    kem::Service* svc = service();
    if (!svc) return atoms.not_started;
    auto kernel = get_kernel_ref(env, argv[1], argv[2]);
    if (!kernel) return enif_make_badarg(env);

    auto call = std::make_shared<Call>();
    if (!enif_self(env, &call->pid)) return enif_make_badarg(env);
    call->ref = enif_make_copy(call->env, argv[0]);
    ERL_NIF_TERM input = enif_make_copy(call->env, argv[3]);
    ERL_NIF_TERM params = enif_make_copy(call->env, argv[4]);
    auto input_bytes = get_bytes(call->env, input);
    auto params_bytes = get_bytes(call->env, params);
    kem::KernelRequest request;
    if (!input_bytes || !params_bytes || !read_options(env, argv[5], request)) return enif_make_badarg(env);
    request.input = *input_bytes;
    request.params = *params_bytes;
    // Raw pointer: the completion below holds the Call, and output_into only runs before it.
    Call* raw_call = call.get();
    request.output_into = [raw_call](uint64_t bytes) -> uint8_t* {
      if (raw_call->output_allocated || !enif_alloc_binary(bytes, &raw_call->output)) return nullptr;
      raw_call->output_allocated = true;
      return raw_call->output.data;
    };

    void* memory = enif_alloc_resource(g_job_type, sizeof(Job));
    if (!memory) return make_error(env, kem::ErrorCode::internal, "cannot allocate a job");
    Job* job = new (memory) Job();
    ERL_NIF_TERM job_term = enif_make_resource(env, job);
    call->job = job;  // the call's reference, released by ~Call

    CallerEnvScope scope(env);
    svc->submit(std::move(*kernel), std::move(request), [call](kem::Result<kem::OutputView> result) {
      try {
        complete(*call, result);
      } catch (...) {
        // Nothing may escape onto the service's threads; the waiter times out.
      }
    });
    return make_ok(env, job_term);
  });
}

ERL_NIF_TERM nif_cancel(ErlNifEnv* env, int, const ERL_NIF_TERM argv[]) {
  Job* job;
  if (!enif_get_resource(env, argv[0], g_job_type, reinterpret_cast<void**>(&job)))
    return enif_make_badarg(env);
  std::lock_guard lock(job->mutex);
  if (job->sent) return atoms.sent;
  job->cancelled = true;
  return atoms.cancelled;
}

}  // namespace kem_nif
