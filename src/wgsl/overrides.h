// A request's override values checked against the kernel's `override` declarations (issue 19):
// every key names a declaration, every override without default gets a value, and each value is
// one its type can hold. The result is what the pipeline is created with.
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kem/reflection.h"
#include "kem/result.h"

namespace kem {

struct OverrideValue {
  const OverrideDeclaration* declaration = nullptr;
  std::string key;  // as WebGPU wants it: the @id number as text when declared, else the name
  double value = 0;
};

// One value per declaration that the request sets, in declaration order. Errors are
// invalid_argument naming the key or the override.
Result<std::vector<OverrideValue>> resolve_overrides(
    const std::vector<OverrideDeclaration>& declared,
    std::span<const std::pair<std::string, double>> given);

// The request's values as one string, the same for the same set in any order: the part of a
// pipeline cache key that tells the pipelines of one source apart. Empty when none are given.
std::string overrides_cache_key(std::span<const std::pair<std::string, double>> given);

}  // namespace kem
