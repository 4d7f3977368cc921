// The workgroup storage a module declares, in bytes, as Dawn counts it against
// maxComputeWorkgroupStorageSize: each `var<workgroup>` takes the size of its type (WGSL's
// memory layout rules: alignment, array strides, struct padding) rounded up to 16 bytes.
// Loop metering uses it to decide whether its 16-byte workgroup flag still fits (issue 19: a
// tiled matmul that uses exactly the limit must stay valid when metered).
#pragma once

#include <cstdint>
#include <optional>

#include "ast.h"
#include "const_eval.h"

namespace kem::wgsl {

// The sum over every module-scope `var<workgroup>` (used by an entry point or not, so it may
// overstate what one entry point uses; never understates). nullopt when a type is not one this
// function sizes (@size / @align attributes, unknown names): callers then assume the worst.
std::optional<uint64_t> workgroup_storage_bytes(const Module& module, ConstEvaluator& constants);

}  // namespace kem::wgsl
