// The service's description of its devices, for `get_adapter_info` and `kem info`.
#pragma once

#include <string>

#include "kem/executor_pool.h"

namespace kem::service {

// The first device's adapter object (name, vendor, backend, limits...: what a single-device
// caller has always read), plus "devices" (each device's adapter, load, health and counters),
// "total" and "retries" from ExecutorPool::adapter_info_json.
std::string adapter_report_json(const ExecutorPool& pool);

}  // namespace kem::service
