#include "executor/metered_module.h"

#include <cstdio>
#include <sstream>
#include <string>

namespace kem::executor {

Error to_original_positions(Error error, const MeteredKernel& metered) {
  std::stringstream in(error.message);
  std::string line, out;
  while (std::getline(in, line)) {
    unsigned long l = 0, c = 0;
    int used = 0;
    if (std::sscanf(line.c_str(), "%lu:%lu:%n", &l, &c, &used) == 2 && used > 0) {
      OriginalLocation at = metered.to_original(l, c);
      line = std::to_string(at.line) + ":" + std::to_string(at.column) + ":" + line.substr(used) +
             (at.in_inserted_code ? " (in KEM's loop metering)" : "");
    }
    out += (out.empty() ? "" : "\n") + line;
  }
  error.message = out;
  return error;
}

MeteredModule compile_metered(gpu::Device& device, const wgsl::ParsedModule& parsed, const Reflection& reflection,
                              const MeteringOptions& options) {
  Result<MeteredKernel> first = meter(parsed, reflection, options);
  if (!first) return {std::move(first), std::nullopt};
  Result<gpu::ShaderModuleHandle> module = device.compile(first->source);
  if (module) return {std::move(first), std::move(module)};
  Error rejected = to_original_positions(module.take_error(), *first);
  // Tint's uniformity errors say "... must only be called from uniform control flow"; any other
  // error is not one a wider rewrite could mend, and a retry would only cost compiles.
  const bool uniformity = rejected.message.find("uniform control flow") != std::string::npos;
  if (!uniformity || options.uniform_exits != UniformExits::barrier_loops || first->widened_loops == 0)
    return {std::move(first), Result<gpu::ShaderModuleHandle>(std::move(rejected))};
  // Only a retry can tell whether the failure was the uniformity of a widenable loop: WGSL's
  // analysis is Dawn's, not KEM's. A kernel that is invalid as written fails every way. The wider
  // rewrite first; it fails where a widened loop lies in non-uniform control flow.
  for (UniformExits wider : {UniformExits::barrier_functions, UniformExits::barrier_functions_outside_branches}) {
    MeteringOptions widened = options;
    widened.uniform_exits = wider;
    Result<MeteredKernel> again = meter(parsed, reflection, widened);
    if (!again || again->widened_loops == 0) continue;
    Result<gpu::ShaderModuleHandle> retried = device.compile(again->source);
    if (retried) return {std::move(again), std::move(retried)};
  }
  return {std::move(first), Result<gpu::ShaderModuleHandle>(std::move(rejected))};
}

}  // namespace kem::executor
