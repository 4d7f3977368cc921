#include "webgpu/instance.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "webgpu/callback_box.h"

namespace kem::gpu {
namespace {

std::string backend_name(WGPUBackendType type) {
  switch (type) {
    case WGPUBackendType_Null: return "null";
    case WGPUBackendType_WebGPU: return "webgpu";
    case WGPUBackendType_D3D11: return "d3d11";
    case WGPUBackendType_D3D12: return "d3d12";
    case WGPUBackendType_Metal: return "metal";
    case WGPUBackendType_Vulkan: return "vulkan";
    case WGPUBackendType_OpenGL: return "opengl";
    case WGPUBackendType_OpenGLES: return "opengles";
    default: return "undefined";
  }
}

std::string adapter_type_name(WGPUAdapterType type) {
  switch (type) {
    case WGPUAdapterType_DiscreteGPU: return "discrete_gpu";
    case WGPUAdapterType_IntegratedGPU: return "integrated_gpu";
    case WGPUAdapterType_CPU: return "cpu";
    default: return "unknown";
  }
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

struct AdapterRequest {
  WGPURequestAdapterStatus status{};
  WGPUAdapter adapter = nullptr;
  std::string message;
  bool done = false;
};

// Some implementations add fields to these structs; the slack keeps a longer write in bounds.
struct InfoStorage {
  WGPUAdapterInfo info{};
  unsigned char slack[256]{};
};
struct LimitsStorage {
  WGPULimits limits{};
  unsigned char slack[512]{};
};

}  // namespace

Result<std::unique_ptr<Instance>> Instance::create() {
  WGPUInstanceFeatureName features[] = {WGPUInstanceFeatureName_TimedWaitAnyEnable};
  WGPUInstanceDescriptor descriptor{};
  descriptor.requiredFeatureCount = 1;
  descriptor.requiredFeatures = features;
  WGPUInstance raw = wgpuCreateInstance(&descriptor);
  if (!raw) return make_error(ErrorCode::no_adapter, "could not create a WebGPU instance");
  return std::unique_ptr<Instance>(new Instance(InstanceHandle(raw)));
}

Result<bool> Instance::wait(WGPUFuture future, std::chrono::nanoseconds timeout) {
  WGPUFutureWaitInfo info{future, 0};
  auto ns = static_cast<uint64_t>(std::max<int64_t>(0, timeout.count()));
  WGPUWaitStatus status = wgpuInstanceWaitAny(instance_.get(), 1, &info, ns);
  if (status == WGPUWaitStatus_Success) return true;
  if (status == WGPUWaitStatus_TimedOut) return false;
  return make_error(ErrorCode::internal, "wgpuInstanceWaitAny failed");
}

Result<Adapter> Instance::request(WGPUPowerPreference preference, bool force_fallback) {
  WGPURequestAdapterOptions options{};
  options.featureLevel = WGPUFeatureLevel_Core;
  options.powerPreference = preference;
  options.forceFallbackAdapter = force_fallback ? 1 : 0;

  auto [state, userdata] = CallbackBox<AdapterRequest>::make();
  WGPURequestAdapterCallbackInfo callback{};
  callback.mode = WGPUCallbackMode_WaitAnyOnly;
  callback.callback = [](WGPURequestAdapterStatus status, WGPUAdapter adapter, WGPUStringView message,
                         void* userdata1, void*) {
    auto box = CallbackBox<AdapterRequest>::take(userdata1);
    auto& s = **box;
    s.status = status;
    s.adapter = adapter;
    s.message = std::string(from_view(message));
    s.done = true;
  };
  callback.userdata1 = userdata;
  WGPUFuture future = wgpuInstanceRequestAdapter(instance_.get(), &options, callback);
  auto waited = wait(future, std::chrono::seconds(30));
  if (!waited) return waited.take_error();
  if (!*waited || !state->done)
    return make_error(ErrorCode::no_adapter, "timed out requesting a WebGPU adapter");
  AdapterHandle handle(state->adapter);
  if (state->status != WGPURequestAdapterStatus_Success || !handle)
    return make_error(ErrorCode::no_adapter, "no WebGPU adapter: " + state->message);

  Adapter adapter;
  adapter.handle = std::move(handle);
  InfoStorage info;
  if (wgpuAdapterGetInfo(adapter.handle.get(), &info.info) != WGPUStatus_Success)
    return make_error(ErrorCode::no_adapter, "wgpuAdapterGetInfo failed");
  auto& d = adapter.description;
  d.vendor = std::string(from_view(info.info.vendor));
  d.architecture = std::string(from_view(info.info.architecture));
  d.device = std::string(from_view(info.info.device));
  d.description = std::string(from_view(info.info.description));
  d.backend = backend_name(info.info.backendType);
  d.adapter_type = adapter_type_name(info.info.adapterType);
  d.vendor_id = info.info.vendorID;
  d.device_id = info.info.deviceID;
  d.is_null_backend = info.info.backendType == WGPUBackendType_Null;
  wgpuAdapterInfoFreeMembers(info.info);

  LimitsStorage limits;
  if (wgpuAdapterGetLimits(adapter.handle.get(), &limits.limits) != WGPUStatus_Success)
    return make_error(ErrorCode::no_adapter, "wgpuAdapterGetLimits failed");
  adapter.limits = limits.limits;
  adapter.limits.nextInChain = nullptr;
  return adapter;
}

std::vector<Adapter> Instance::list_adapters() {
  std::vector<Adapter> found;
  auto add = [&](Result<Adapter> candidate) {
    if (!candidate) return;
    for (const auto& a : found) {
      const auto& x = a.description;
      const auto& y = candidate->description;
      if (x.vendor_id == y.vendor_id && x.device_id == y.device_id && x.device == y.device &&
          x.backend == y.backend)
        return;
    }
    found.push_back(std::move(candidate).value());
  };
  add(request(WGPUPowerPreference_HighPerformance, false));
  add(request(WGPUPowerPreference_LowPower, false));
  add(request(WGPUPowerPreference_Undefined, true));
  return found;
}

Result<Adapter> Instance::request_adapter(const std::string& selector) {
  Result<Adapter> chosen = make_error(ErrorCode::no_adapter, "no adapter");
  if (selector.empty() || selector == "high-performance") {
    chosen = request(WGPUPowerPreference_HighPerformance, false);
  } else if (selector == "low-power") {
    chosen = request(WGPUPowerPreference_LowPower, false);
  } else if (selector == "cpu") {
    chosen = request(WGPUPowerPreference_Undefined, true);
  } else {
    auto adapters = list_adapters();
    std::string names;
    for (const auto& a : adapters) names += (names.empty() ? "" : ", ") + a.description.device;
    if (selector[0] == '#') {
      char* end = nullptr;
      unsigned long index = std::strtoul(selector.c_str() + 1, &end, 10);
      if (selector.size() < 2 || *end != '\0')
        return make_error(ErrorCode::invalid_argument, "adapter index must look like #0, got '" + selector + "'");
      if (index >= adapters.size())
        return make_error(ErrorCode::no_adapter, "no adapter " + selector + "; " +
                                                     std::to_string(adapters.size()) +
                                                     " available: " + names);
      chosen = std::move(adapters[index]);
    } else {
      auto it = std::find_if(adapters.begin(), adapters.end(), [&](const Adapter& a) {
        return lower(a.description.device).find(lower(selector)) != std::string::npos;
      });
      if (it == adapters.end())
        return make_error(ErrorCode::no_adapter,
                          "no adapter name contains '" + selector + "'; available: " + names);
      chosen = std::move(*it);
    }
  }
  if (!chosen) return chosen;
  if (chosen->description.is_null_backend)
    return make_error(ErrorCode::no_adapter,
                      "only Dawn's Null backend is available (it runs nothing); install a Vulkan "
                      "driver (on machines without a GPU: Mesa lavapipe >= 23 from bookworm-backports)");
  if (chosen->limits.maxComputeInvocationsPerWorkgroup == 0 ||
      chosen->limits.maxStorageBuffersPerShaderStage < 2)
    return make_error(ErrorCode::no_adapter,
                      "adapter '" + chosen->description.device + "' cannot run compute kernels");
  return chosen;
}

}  // namespace kem::gpu
