// The service's description of its devices, for `get_adapter_info` and `kem info`.
#pragma once

#include <string>

#include "kem/worker_options.h"

namespace kem::service {

// The first device's adapter object (name, vendor, backend, limits...: what a single-device
// caller has always read), plus "devices" (each device's adapter, load, health and counters),
// "total" and "retries" from ExecutorPool::adapter_info_json (`pool_json`), and "worker": the
// GPU worker processes (kem/worker_options.h, WorkerStats).
std::string adapter_report_json(const std::string& pool_json, const WorkerStats& worker);

}  // namespace kem::service
