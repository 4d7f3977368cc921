#include "pool/executor_pool_adapters.h"

#include <algorithm>
#include <cstdlib>

#include "webgpu/instance.h"

namespace kem::pool {
namespace {

Result<std::vector<std::string>> every_gpu() {
  auto instance = gpu::Instance::create();
  if (!instance) return instance.take_error();
  std::vector<std::string> selectors;
  auto is_gpu = [](const gpu::Adapter& a) { return a.description.adapter_type != "cpu"; };
  if (auto all = (*instance)->enumerate_adapters()) {
    for (size_t i = 0; i < all->size(); ++i)
      if (is_gpu((*all)[i])) selectors.push_back("@" + std::to_string(i));
  } else {
    // Not Dawn: only the distinct adapters of the standard API (identical GPUs count once).
    auto distinct = (*instance)->list_adapters();
    for (size_t i = 0; i < distinct.size(); ++i)
      if (is_gpu(distinct[i])) selectors.push_back("#" + std::to_string(i));
  }
  if (selectors.empty()) selectors.push_back("");
  return selectors;
}

}  // namespace

Result<std::vector<std::string>> pool_adapter_selectors(const ExecutorPoolOptions& options) {
  if (const char* env = std::getenv("KEM_ADAPTER"); env && *env)
    return std::vector<std::string>(std::max<size_t>(1, options.adapters.size()), env);
  if (!options.adapters.empty()) return options.adapters;
  return every_gpu();
}

}  // namespace kem::pool
