// The remembered verdicts of kernels (admitted or refused), least recently used out, and the
// sandbox runs under way: concurrent first calls of one kernel wait for the same run. Not
// thread-safe itself: KernelAdmission guards it with its mutex.
#pragma once

#include <chrono>
#include <condition_variable>
#include <list>
#include <memory>
#include <optional>
#include <unordered_map>

#include "kem/result.h"
#include "sandbox/kernel_key.h"

namespace kem::sandbox {

// One sandbox run that callers of the same kernel wait for.
struct Flight {
  std::condition_variable done_cv;
  bool done = false;
  Status verdict;
};

class VerdictCache {
 public:
  explicit VerdictCache(size_t capacity) : capacity_(capacity) {}

  using Clock = std::chrono::steady_clock;
  // The remembered verdict, made the most recent; nullopt when unknown (or expired: forgotten).
  std::optional<Status> find(const KernelKey& key);
  // `forget_at`: when the verdict stops counting (a refusal that depended on the machine's load).
  void insert(const KernelKey& key, Status verdict, std::optional<Clock::time_point> forget_at = std::nullopt);
  size_t size() const { return index_.size(); }

  // The run of `key` under way, if any; begin() makes one (the caller then runs the sandbox).
  std::shared_ptr<Flight> flight(const KernelKey& key) const;
  std::shared_ptr<Flight> begin(const KernelKey& key);
  void end(const KernelKey& key) { flights_.erase(key); }

 private:
  struct Entry {
    KernelKey key;
    Status verdict;
    std::optional<Clock::time_point> forget_at;
  };
  size_t capacity_;
  std::list<Entry> order_;  // most recent first
  std::unordered_map<KernelKey, std::list<Entry>::iterator, KernelKeyHash> index_;
  std::unordered_map<KernelKey, std::shared_ptr<Flight>, KernelKeyHash> flights_;
};

}  // namespace kem::sandbox
