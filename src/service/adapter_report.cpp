#include "service/adapter_report.h"

#include <nlohmann/json.hpp>

namespace kem::service {

std::string adapter_report_json(const ExecutorPool& pool) {
  nlohmann::json devices = nlohmann::json::parse(pool.adapter_info_json(), nullptr, /*allow_exceptions=*/false);
  if (!devices.is_object()) return "{}";
  nlohmann::json report = nlohmann::json::object();
  if (devices.contains("devices") && !devices["devices"].empty() && devices["devices"][0].contains("adapter"))
    report = devices["devices"][0]["adapter"];
  for (const char* key : {"devices", "total", "retries"})
    if (devices.contains(key)) report[key] = devices[key];
  return report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace kem::service
