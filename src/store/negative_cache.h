// Remembers, for minutes only, that an ID was not found or failed verification, so a burst
// of calls for a bad ID does not hammer the gateways. Unreachable gateways are not recorded
// here: their back-off handles that. Thread-safe; bounded.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "kem/error.h"

namespace kem::store {

class NegativeCache {
 public:
  using Clock = std::chrono::steady_clock;
  NegativeCache(std::chrono::milliseconds ttl, std::size_t max_entries = 4096);

  std::optional<Error> get(const std::string& id, Clock::time_point now = Clock::now());
  void put(const std::string& id, Error error, Clock::time_point now = Clock::now());

 private:
  struct Entry {
    Error error;
    Clock::time_point expires;
  };
  std::mutex mutex_;
  std::chrono::milliseconds ttl_;
  std::size_t max_entries_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace kem::store
