// ExecutorPool::adapter_info_json: every device of the pool with its adapter, load and health.
#include <nlohmann/json.hpp>

#include "kem/executor_pool.h"

namespace kem {
namespace {

nlohmann::json counters(const Executor::Stats& s) {
  return {{"calls", s.calls},
          {"errors", s.errors},
          {"device_losses", s.device_losses},
          {"pipeline_hits", s.pipeline_hits},
          {"pipeline_misses", s.pipeline_misses}};
}

}  // namespace

std::string ExecutorPool::adapter_info_json() const {
  try {
    Stats s = stats();
    nlohmann::json devices = nlohmann::json::array();
    for (size_t i = 0; i < s.devices.size(); ++i) {
      const DeviceStats& d = s.devices[i];
      nlohmann::json device = counters(d.executor);
      device["index"] = i;
      device["selector"] = d.selector;
      // The executor's own JSON; kept as a string if it ever failed to parse.
      auto adapter = nlohmann::json::parse(device_adapter_info_json(i), nullptr, false);
      device["adapter"] = adapter.is_discarded() ? nlohmann::json(device_adapter_info_json(i)) : adapter;
      device["queue_depth"] = d.queue_depth;
      device["healthy"] = d.healthy;
      device["in_rotation"] = d.in_rotation;
      device["retried_elsewhere"] = d.retried_elsewhere;
      device["removals"] = d.removals;
      devices.push_back(std::move(device));
    }
    nlohmann::json info = {{"devices", devices}, {"total", counters(s.total)}, {"retries", s.retries}};
    return info.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const std::exception& e) {
    return nlohmann::json({{"error", std::string("could not describe the pool: ") + e.what()}})
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
}

}  // namespace kem
