// Shared by the executor suites: one real executor (lavapipe in CI) and CPU reference helpers.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <future>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kem/executor.h"

namespace kem::test {

inline std::string read_kernel(const std::string& name) {
  std::ifstream file(std::string(KEM_SOURCE_DIR) + "/kernels/" + name);
  EXPECT_TRUE(file.good()) << "missing kernel " << name;
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
