// Shared by the executor suites: one real executor (lavapipe in CI) and CPU reference helpers.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <future>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kem/executor.h"

namespace kem::test {

// From the source tree the binary was built in, or else from kernels/ under the working folder:
// the GPU machine runs binaries built here from a copy of the tree at another path (issue 18).
inline std::string read_kernel(const std::string& name) {
  std::ifstream file(std::string(KEM_SOURCE_DIR) + "/kernels/" + name);
  if (!file) file.open("kernels/" + name);
  EXPECT_TRUE(file.good()) << "missing kernel " << name << " (in " << KEM_SOURCE_DIR
                           << "/kernels or ./kernels)";
  std::stringstream s;
  s << file.rdbuf();
  return s.str();
}

inline Executor& shared_executor() {
  static std::unique_ptr<Executor> executor = [] {
    auto created = Executor::create();
    if (!created) {
      ADD_FAILURE() << "executor: " << created.error().message;
      std::abort();
    }
    return std::move(created).value();
  }();
  return *executor;
}

// Straight-line code of about `bytes`, each statement depending on the previous one, and what it
// computes from input[0] = `x0`. The driver's compile time grows much faster than the size on
// lavapipe (0.13 s at 6 KB, about 1 s at 14 KB, a minute at 24 KB, tens of seconds of Tint and
// KEM's passes before that at 900 KB).
inline std::pair<std::string, uint32_t> dependent_chain(size_t bytes, uint32_t x0) {
  std::string s =
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@compute @workgroup_size(1) fn main() {\n  var x = input[0];\n";
  uint32_t x = x0;
  for (uint32_t i = 0; s.size() < bytes; ++i) {
    s += "  x = x * 3u + " + std::to_string(i % 1000) + "u;\n";
    x = x * 3u + i % 1000;
  }
  return {s + "  output[0] = x;\n}\n", x};
}

inline std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> bytes(n);
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  return bytes;
}

inline std::vector<uint32_t> to_words(const std::vector<uint8_t>& bytes) {
  std::vector<uint32_t> words((bytes.size() + 3) / 4, 0);
  std::memcpy(words.data(), bytes.data(), bytes.size());
  return words;
}

inline std::vector<uint8_t> to_bytes(const std::vector<uint32_t>& words, size_t n) {
  std::vector<uint8_t> bytes(words.size() * 4);
  std::memcpy(bytes.data(), words.data(), bytes.size());
  bytes.resize(n, 0);
  return bytes;
}

inline std::vector<uint8_t> u32_bytes(std::initializer_list<uint32_t> words) {
  return to_bytes(std::vector<uint32_t>(words), words.size() * 4);
}

// The double-integer kernel's result computed on the CPU.
// One invocation sums 0 + 1 + ... + (src[0] - 1): src[0] iterations of a loop whose bound comes
// from the input, so metering counts every iteration (allow-list tests: 100 iterations against a
// budget of 99 run only unmetered).
inline const char* const kInputSumKernel =
    "@group(0) @binding(0) var<storage, read> src: array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> dst: array<u32>;\n"
    "@compute @workgroup_size(1) fn main() {\n"
    "  var total = 0u;\n"
    "  for (var i = 0u; i < src[0]; i++) { total += i; }\n"
    "  dst[0] = total;\n"
    "}\n";

// Spins for `input[0]` iterations of an LCG per invocation, then writes its state: keeps the
// device busy for as long as a test needs, with a result the CPU can check (spin_reference).
inline const char* const kSpinKernel =
    "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
    "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
    "  var x = id.x;\n"
    "  for (var i = 0u; i < input[0]; i++) { x = x * 1664525u + 1013904223u; }\n"
    "  if (id.x < arrayLength(&output)) { output[id.x] = x; }\n"
    "}\n";

// A loop budget that lets kSpinKernel run as long as spin_iterations_lasting asks.
inline constexpr uint32_t kSpinLoopBudget = 0xFFFFFFFFu;

// How many kSpinKernel iterations keep the adapter behind `runner` (an Executor or an
// ExecutorPool) busy for at least about `target`, over `words` invocations: measured, doubling
// from 2^10 until one call takes 100 ms or more, then the faster of two calls at that count
// scaled (a call slowed by other load on a shared machine would make the count too small), at
// most `most`. No fixed count is slow on
// both adapters this project runs on: lavapipe is about a thousand times slower per iteration
// than an H200 (issue 18). The runner's loop budget must allow the count (kSpinLoopBudget).
template <typename Runner>
uint32_t spin_iterations_lasting(Runner& runner, std::chrono::milliseconds target, size_t words,
                                 uint64_t most = uint64_t{1} << 31) {
  std::vector<uint8_t> input(words * 4, 0);
  auto timed = [&](uint32_t count) -> std::optional<double> {
    std::memcpy(input.data(), &count, 4);
    KernelRequest r;
    r.source = kSpinKernel;
    r.input = input;
    const auto start = std::chrono::steady_clock::now();
    auto out = runner.run(r);
    if (!out) {
      ADD_FAILURE() << "calibrating the spin kernel: " << out.error().message;
      return std::nullopt;
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  for (uint64_t n = 1024;; n *= 2) {
    const uint32_t count = static_cast<uint32_t>(std::min(n, most));
    std::optional<double> took = timed(count);
    if (!took) return count;
    if (*took >= 0.1 || count >= most) {
      std::optional<double> again = timed(count);
      if (!again) return count;
      const double fastest = std::min(*took, *again);
      const double wanted = std::chrono::duration<double>(target).count() / fastest * count;
      return static_cast<uint32_t>(std::clamp<double>(wanted, 1, static_cast<double>(most)));
    }
  }
}

// kSpinKernel's output word `index` after `iterations` steps, computed on the CPU.
inline uint32_t spin_reference(uint32_t index, uint32_t iterations) {
  uint32_t x = index;
  for (uint32_t i = 0; i < iterations; ++i) x = x * 1664525u + 1013904223u;
  return x;
}

inline std::vector<uint8_t> doubled(const std::vector<uint8_t>& input, size_t output_bytes) {
  auto words = to_words(input);
  for (auto& w : words) w *= 2u;
  words.resize((output_bytes + 3) / 4, 0);
  return to_bytes(words, output_bytes);
}

inline Result<std::vector<uint8_t>> run(const std::string& source, const std::vector<uint8_t>& input,
                                        uint64_t hint = 1) {
  KernelRequest request;
  request.source = source;
  request.input = input;
  request.output_size_hint = hint;
  return shared_executor().run(request);
}

#define KEM_ASSERT_OK(result) ASSERT_TRUE((result).ok()) << (result).error().message

}  // namespace kem::test
