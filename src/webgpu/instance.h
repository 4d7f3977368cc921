// The WebGPU instance and adapter selection.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kem/result.h"
#include "webgpu/handles.h"

namespace kem::gpu {

// What an adapter says about itself, copied out of WebGPU's structures.
struct AdapterDescription {
  std::string vendor, architecture, device, description;
  std::string backend;       // "vulkan", "null", ...
  std::string adapter_type;  // "discrete_gpu", "integrated_gpu", "cpu", "unknown"
  uint32_t vendor_id = 0, device_id = 0;
  bool is_null_backend = false;
};

struct Adapter {
  AdapterHandle handle;
  AdapterDescription description;
  WGPULimits limits{};
};

class Instance {
 public:
  // An instance with timed WaitAny, so every wait in KEM can have a deadline.
  static Result<std::unique_ptr<Instance>> create();

  // Selector: "" high performance, "cpu" the fallback (CPU) adapter, "#N" the N-th adapter of
  // list_adapters(), "@N" the N-th adapter of enumerate_adapters() (the only way to reach the
  // second of two identical GPUs), otherwise a case-insensitive substring of the adapter's name.
  // Refuses Dawn's Null backend, which accepts work and runs none of it.
  Result<Adapter> request_adapter(const std::string& selector);

  // Every distinct adapter reachable through the standard API (by power preference and the
  // fallback flag; webgpu.h has no enumeration call).
  std::vector<Adapter> list_adapters();

  // Every adapter of every physical device, identical GPUs included, in Dawn's order (discrete
  // GPUs first, then by backend; among equals, the driver's enumeration order). The standard
  // API cannot do this: wgpuInstanceRequestAdapter returns the first of this very list. Uses
  // Dawn's native dawn::native::Instance::EnumerateAdapters, looked up at run time; nullopt when
  // the WebGPU library does not export it (not Dawn). Dawn's Null adapter is left out.
  std::optional<std::vector<Adapter>> enumerate_adapters();

  // Waits for a future. Returns false on timeout.
  Result<bool> wait(WGPUFuture future, std::chrono::nanoseconds timeout);

  WGPUInstance raw() const { return instance_.get(); }

 private:
  explicit Instance(InstanceHandle instance) : instance_(std::move(instance)) {}
  Result<Adapter> request(WGPUPowerPreference preference, bool force_fallback);
  // Copies what an adapter says about itself (info, limits) next to its handle.
  static Result<Adapter> describe(AdapterHandle handle);
  InstanceHandle instance_;
};

}  // namespace kem::gpu
