// The executor's settings and the types of a call's completion: what code below the executor
// (and users that only configure one) needs without the Executor class itself.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "kem/result.h"

namespace kem {

struct ExecutorOptions {
  // Which adapter: "" picks the high-performance one; "cpu" forces the CPU (fallback) driver;
  // "#N" picks the N-th adapter KEM can see; anything else is a substring of the adapter name.
  // Overridden by the environment variable KEM_ADAPTER when that is set.
  std::string adapter;
  uint64_t max_output_bytes = 268435456;        // 256 MiB, as in the proof of concept
  uint64_t max_input_bytes = 1ull << 30;        // 1 GiB
  std::chrono::milliseconds default_timeout{30000};
  // The longest deadline any call gets: a request's own `timeout` may lower its deadline, never
  // raise it past this (a caller that asked for a day once held a device for 78 s while other
  // calls failed). The same as default_timeout by default, so a call without a timeout already
  // gets the most a node allows; default_timeout may not exceed it (Executor::create refuses).
  std::chrono::milliseconds max_timeout{30000};
  // Admission control: a call that this device's measured service times say cannot finish by
  // its deadline (the work queued ahead of it, plus its own time) is refused at once with
  // `unavailable` and a retry_after, and no batch grows past the deadline of any call in it
  // (see src/executor/session/admission.h). Off: every call is queued, and may time out there.
  bool admission = true;
  size_t pipeline_cache_capacity = 256;         // compiled kernels kept warm (LRU)
  // Loop metering (docs/kernel-contract.md): every loop of a kernel shares a per-invocation
  // iteration budget, so no kernel can keep the device busy forever. Requests may lower the
  // budget, never raise it.
  bool metering = true;
  uint32_t loop_budget = 1u << 24;

  // Batching: calls queued while the GPU is busy go to the GPU together, in one submission and
  // one readback, up to this many calls, each with at most `batch_call_bytes` of input and of
  // output (larger calls run alone). Every call still binds only its own byte ranges.
  size_t max_batch_calls = 64;
  uint64_t batch_call_bytes = 64u << 10;
  // How long the thread waiting for a submission polls before it sleeps, and how long the GPU
  // thread, out of work, looks for the next call before it sleeps. Polling holds a CPU core
  // while it lasts but saves a thread wake-up: on the H200 a 4-byte call took 72 µs with a
  // blocking wait and 36 µs polling (docs/PERFORMANCE.md). Unset: 100 µs on GPUs, 0 on CPU
  // adapters (lavapipe needs every core for the kernel itself).
  std::optional<std::chrono::microseconds> spin_wait;
  // run() on an idle executor (no call queued or running) drives the device from the calling
  // thread instead of handing the call to the GPU thread and waiting to be woken (see the
  // threading model in kem/executor.h).
  bool direct_calls = true;
  // Calls with this much input or output, or more, move it through KEM's own mapped staging
  // buffers in chunks of `staging_chunk_bytes`, copied by several threads and overlapped with
  // the GPU's transfers, instead of WebGPU's queue writes and one big readback.
  uint64_t staged_transfer_bytes = 16u << 20;
  uint64_t staging_chunk_bytes = 32u << 20;
  // Chunks in flight each way (each one a staging buffer of `staging_chunk_bytes`).
  size_t staging_slots = 3;
  // Threads that copy a chunk besides the calling one. Unset: the hardware threads less one,
  // at most 15 (one thread moves about 10 GB/s into or out of mapped memory).
  std::optional<size_t> staging_copy_threads;
  // Called on the driving thread when a group of calls outlived every deadline in it and its
  // device was abandoned (the executor makes a new one): the GPU may still be running that
  // work. The GPU worker process asks to be replaced then (src/worker/), since a device of the
  // same process would share the GPU, or lavapipe's threads, with the abandoned work.
  std::function<void()> on_device_abandoned;
};

// A call's time: its own timeout, else default_timeout; never more than max_timeout. Whether
// the cap applied is reported with it, so a timeout can say so.
struct CallTimeout {
  std::chrono::milliseconds timeout;
  bool capped = false;
};
inline CallTimeout call_timeout(const ExecutorOptions& options, std::optional<std::chrono::milliseconds> requested) {
  const auto wanted = requested.value_or(options.default_timeout);
  if (wanted > options.max_timeout) return {options.max_timeout, true};
  return {wanted, false};
}

// The output of a finished call, valid only during the completion callback (it may point into
// mapped GPU memory, so a caller can build its own buffer from it without an extra copy).
using OutputView = std::span<const uint8_t>;
using Completion = std::function<void(Result<OutputView>)>;

}  // namespace kem
