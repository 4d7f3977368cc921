// The messages between the service (the parent) and its GPU worker process, and how the types
// they carry are encoded (wire.h). One socket (channel.h) carries them in order: a message the
// service sent before another is read by the worker before it.
//
//  service -> worker                         worker -> service
//  hello(ExecutorPoolOptions)                ready(Status, devices)
//  add_kernel(key, source)                   reply(id, output | Error)      to call, check,
//  forget_kernel(key)                                                        stats, info, lose
//  add_arena(id, size) + memfd               abandoned                      a device was
//  forget_arena(id)                                                          abandoned: replace me
//                                            dying(signal)                  from a fatal signal's
//                                                                            handler (process/fatal_signals.h)
//  call(id, CallMessage)
//  check(id, key, entry) / stats(id) / info(id) / lose_device(id, index)
//
// The service ends a worker by closing its socket (the worker then exits at once) or SIGKILL.
//
// Kernels are sent once per worker and then named by key (a 1 MB source is not copied per
// call); large inputs and outputs live in shared-memory arenas (shared_memory.h), mapped once
// per worker and named by id.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "kem/executor_pool.h"
#include "worker/wire.h"

namespace kem::worker {

enum class Kind : uint8_t {
  hello = 1, add_kernel, forget_kernel, add_arena, forget_arena, call, check, stats, info, lose_device,
  ready = 64, reply, abandoned, dying,
};

// Where a run of bytes travels: in the message itself, or in an arena the worker has mapped.
struct Placement {
  bool in_arena = false;
  uint64_t arena = 0, offset = 0, size = 0;  // size: the bytes (or, for an output, the room)
};

// A call, as the worker needs it to rebuild its KernelRequest.
struct CallMessage {
  uint64_t kernel = 0;  // key of a kernel sent with add_kernel
  std::string entry;
  Placement input, params, output;  // inline input / params follow in the message
  std::span<const uint8_t> inline_input, inline_params;
  uint64_t output_size_hint = 1;
  std::optional<uint64_t> output_size;
  std::optional<std::array<uint32_t, 3>> workgroups;
  // The call's deadline on the machine's monotonic clock (steady_clock, the same in both
  // processes): time spent in the socket counts against it.
  uint64_t deadline_ns = 0;
  bool capped = false;  // the caller asked for more than max_timeout (the timeout error says so)
  std::optional<uint64_t> loop_budget;
  bool unmetered = false;
  std::vector<std::pair<std::string, double>> overrides;
};

void put(Writer& w, const Placement& p);
Placement get_placement(Reader& r);
void put(Writer& w, const CallMessage& c);
CallMessage get_call(Reader& r);  // views into the reader's message

void put(Writer& w, const ExecutorPoolOptions& o);
ExecutorPoolOptions get_pool_options(Reader& r);

void put(Writer& w, const Error& e);
Error get_error(Reader& r);

void put(Writer& w, const ExecutorPool::Stats& s);
ExecutorPool::Stats get_stats(Reader& r);

// A message's head: its kind and, for requests that get a reply, the request's id.
inline Writer message(Kind kind, uint64_t id = 0) {
  Writer w;
  w.u8(static_cast<uint8_t>(kind));
  w.u64(id);
  return w;
}

}  // namespace kem::worker
