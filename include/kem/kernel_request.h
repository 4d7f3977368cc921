// One call of a kernel: the WGSL source, the input bytes and how to shape the output and dispatch.
// See docs/kernel-contract.md for the contract these fields implement.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kem {

struct KernelRequest {
  // Views, not copies: what they point to must stay valid until the call completes
  // (Executor::run returns after completion; for Executor::submit, until the callback ran).
  std::string_view source;                // WGSL
  std::span<const uint8_t> input;         // bound at @binding(0), zero-padded to 4 bytes
  std::span<const uint8_t> params;        // bound at @binding(2) when non-empty; multiple of 4

  std::string entry = "main";
  uint64_t output_size_hint = 1;          // output bytes = input.size() * hint ...
  std::optional<uint64_t> output_size;    // ... unless given exactly here
  std::optional<std::array<uint32_t, 3>> workgroups;  // explicit dispatch; otherwise derived
  std::optional<std::chrono::milliseconds> timeout;   // otherwise the executor's default
  std::optional<uint64_t> loop_budget;    // lowers the executor's loop budget for this call
  // Runs without loop metering. Only for kernels the operator trusts (an allow-list of IDs or
  // publishers, applied by the caller that resolved the kernel); ignored when the executor's
  // metering is off anyway.
  bool unmetered = false;
  // Values of the kernel's `override` constants, keyed by the declared name or by the @id number
  // as text (as WebGPU allows). Checked against the declarations before the pipeline is created:
  // an unknown key, a missing value for an override without default, or a value its type cannot
  // hold is invalid_argument. Part of the pipeline cache key: each set of values is its own pipeline.
  std::vector<std::pair<std::string, double>> overrides;

  // Where the output should end up, for a caller that owns that memory (an Erlang binary, a
  // caller's array): called once, on the GPU thread, with the output's size in bytes; returns
  // at least that many writable bytes that stay valid until the completion has run, or nullptr
  // to fail the call (limit_exceeded). The output is copied there straight out of GPU memory (large outputs in
  // chunks, on several threads), and the completion's view then points there. Without it the
  // completion's view points into mapped GPU memory, or into KEM's own staging for outputs of
  // ExecutorOptions::staged_transfer_bytes and more (one more copy for the caller to make).
  // Executor::run puts the output in the vector it returns and replaces this; submit uses it.
  std::function<uint8_t*(uint64_t bytes)> output_into;
};

}  // namespace kem
