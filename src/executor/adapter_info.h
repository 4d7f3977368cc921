#pragma once

#include <string>

#include "webgpu/instance.h"

namespace kem::executor {

// The adapter as a JSON object: identity, driver, backend, type and the limits that matter to
// kernels (see docs/kernel-contract.md).
std::string adapter_info_json(const gpu::Adapter& adapter);

}  // namespace kem::executor
