// Which adapters a pool opens devices on.
#pragma once

#include <string>
#include <vector>

#include "kem/executor_pool.h"

namespace kem::pool {

// The adapter selector of each adapter the pool uses (devices_per_adapter devices on each):
// the configured list; or, when it is empty, every GPU of the machine ("@N", which reaches
// identical GPUs too) and the default adapter when there is none (a CPU driver). KEM_ADAPTER,
// when set, stands for every selector, since Executor::create applies it to each device anyway.
Result<std::vector<std::string>> pool_adapter_selectors(const ExecutorPoolOptions& options);

}  // namespace kem::pool
