// When many threads ask for the same uncached ID at once (the NIF's schedulers do), one of
// them fetches and the others wait for its result instead of repeating the network work.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "kem/result.h"

namespace kem::store {

template <class T>
class SingleFlight {
 public:
  Result<T> run(const std::string& key, const std::function<Result<T>()>& work) {
    std::shared_ptr<Flight> flight;
    bool leader = false;
    {
      std::lock_guard lock(mutex_);
      auto& slot = flights_[key];
      if (!slot) {
        slot = std::make_shared<Flight>();
        leader = true;
      }
      flight = slot;
    }
    if (!leader) {
      std::unique_lock lock(flight->mutex);
      flight->done.wait(lock, [&] { return flight->result.has_value(); });
      return *flight->result;
    }
    // Whatever happens, the followers must be released: an exception becomes their error too.
    Result<T> result = make_error(ErrorCode::internal, "kernel store: the fetch was abandoned");
    try {
      result = work();
    } catch (const std::exception& e) {
      result = make_error(ErrorCode::internal, std::string("kernel store: ") + e.what());
    }
    {
      std::lock_guard lock(mutex_);
      flights_.erase(key);
    }
    {
      std::lock_guard lock(flight->mutex);
      flight->result.emplace(result);
    }
    flight->done.notify_all();
    return result;
  }

 private:
  struct Flight {
    std::mutex mutex;
    std::condition_variable done;
    std::optional<Result<T>> result;
  };
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Flight>> flights_;
};

}  // namespace kem::store
