#include "service/adapter_report.h"

#include <nlohmann/json.hpp>

namespace kem::service {

std::string adapter_report_json(const std::string& pool_json, const WorkerStats& worker) {
  nlohmann::json devices = nlohmann::json::parse(pool_json, nullptr, /*allow_exceptions=*/false);
  if (!devices.is_object()) return "{}";
  nlohmann::json report = nlohmann::json::object();
  if (devices.contains("devices") && !devices["devices"].empty() && devices["devices"][0].contains("adapter"))
    report = devices["devices"][0]["adapter"];
  for (const char* key : {"devices", "total", "retries"})
    if (devices.contains(key)) report[key] = devices[key];
  report["worker"] = {{"isolated", worker.isolated},         {"pid", worker.pid},
                      {"starts", worker.starts},             {"crashes", worker.crashes},
                      {"watchdog_kills", worker.watchdog_kills}, {"replacements", worker.replacements},
                      {"calls_lost", worker.calls_lost},     {"last_recovery_ms", worker.last_recovery_ms},
                      {"last_end", worker.last_end}};
  return report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace kem::service
