#include "webgpu/instance.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <optional>

#include <dlfcn.h>

#include "webgpu/callback_box.h"

// In webgpu.h, not yet in KEM's own subset (webgpu_api.h); only the adapter enumeration needs it.
extern "C" void wgpuAdapterAddRef(WGPUAdapter adapter);

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

// Dawn's native C++ API (include/dawn/native/DawnNative.h), which libwebgpu_wrapper.so exports
// but webgpu.h lacks:
//   class Adapter  { AdapterBase* mImpl; };        WGPUAdapter Adapter::Get() const;
//   class Instance { Ref<InstanceBase> mImpl; };   Instance::Instance(InstanceBase*);
//   std::vector<Adapter> Instance::EnumerateAdapters(const WGPURequestAdapterOptions*) const;
// Both classes are one pointer wide, and a WGPUInstance / WGPUAdapter is that very pointer.
// The symbols are looked up at run time, so any other webgpu.h library still links (and then
// simply has no enumeration). Itanium C++ ABI: `this` is the first argument, and a returned
// std::vector goes through a hidden pointer passed before it, as for a free function.
struct DawnAdapter {
  void* impl;
  ~DawnAdapter();
  DawnAdapter(const DawnAdapter&) = delete;
  DawnAdapter& operator=(const DawnAdapter&) = delete;
};
struct DawnInstance {
  void* impl;
};
struct DawnNative {
  void (*instance_ctor)(DawnInstance*, WGPUInstance) = nullptr;
  void (*instance_dtor)(DawnInstance*) = nullptr;
  std::vector<DawnAdapter> (*enumerate)(const DawnInstance*, const WGPURequestAdapterOptions*) = nullptr;
  WGPUAdapter (*adapter_get)(const DawnAdapter*) = nullptr;
  void (*adapter_dtor)(DawnAdapter*) = nullptr;
};

template <class F>
bool find_symbol(F& f, const char* symbol) {
  f = reinterpret_cast<F>(dlsym(RTLD_DEFAULT, symbol));
  return f != nullptr;
}

// Null when the WebGPU library is not a Dawn that exports its native API.
const DawnNative* dawn_native() {
  static const std::optional<DawnNative> native = []() -> std::optional<DawnNative> {
    DawnNative n;
    if (find_symbol(n.instance_ctor, "_ZN4dawn6native8InstanceC1EPNS0_12InstanceBaseE") &&
        find_symbol(n.instance_dtor, "_ZN4dawn6native8InstanceD1Ev") &&
        find_symbol(n.enumerate, "_ZNK4dawn6native8Instance17EnumerateAdaptersEPK25WGPURequestAdapterOptions") &&
        find_symbol(n.adapter_get, "_ZNK4dawn6native7Adapter3GetEv") &&
        find_symbol(n.adapter_dtor, "_ZN4dawn6native7AdapterD1Ev"))
      return n;
    return std::nullopt;
  }();
  return native ? &*native : nullptr;
}

DawnAdapter::~DawnAdapter() { dawn_native()->adapter_dtor(this); }

// A dawn::native::Instance wrapping ours (it holds its own reference, dropped on scope exit).
class DawnInstanceScope {
 public:
  DawnInstanceScope(const DawnNative& native, WGPUInstance instance) : native_(native) {
    native_.instance_ctor(&object_, instance);
  }
  ~DawnInstanceScope() { native_.instance_dtor(&object_); }
  DawnInstanceScope(const DawnInstanceScope&) = delete;
  DawnInstanceScope& operator=(const DawnInstanceScope&) = delete;
  const DawnInstance* get() const { return &object_; }

 private:
  const DawnNative& native_;
  DawnInstance object_{};
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
  return describe(std::move(handle));
}

Result<Adapter> Instance::describe(AdapterHandle handle) {
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

std::optional<std::vector<Adapter>> Instance::enumerate_adapters() {
  const DawnNative* native = dawn_native();
  if (!native) return std::nullopt;
  WGPURequestAdapterOptions options{};
  options.featureLevel = WGPUFeatureLevel_Core;
  options.powerPreference = WGPUPowerPreference_HighPerformance;
  std::vector<Adapter> found;
  DawnInstanceScope scope(*native, instance_.get());
  std::vector<DawnAdapter> adapters = native->enumerate(scope.get(), &options);
  for (const DawnAdapter& a : adapters) {
    WGPUAdapter raw = native->adapter_get(&a);
    if (!raw) continue;
    wgpuAdapterAddRef(raw);  // ours to release; the DawnAdapter drops its own reference
    auto described = describe(AdapterHandle(raw));
    if (described && !described->description.is_null_backend) found.push_back(std::move(described).value());
  }
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
  } else if (selector[0] == '@') {
    char* end = nullptr;
    unsigned long index = std::strtoul(selector.c_str() + 1, &end, 10);
    if (selector.size() < 2 || *end != '\0')
      return make_error(ErrorCode::invalid_argument, "adapter index must look like @0, got '" + selector + "'");
    auto all = enumerate_adapters();
    if (!all)
      return make_error(ErrorCode::no_adapter,
                        "'@N' needs Dawn's adapter enumeration, which this WebGPU library lacks; use #N");
    if (index >= all->size())
      return make_error(ErrorCode::no_adapter, "no adapter " + selector + "; " + std::to_string(all->size()) +
                                                   " physical adapters available");
    chosen = std::move((*all)[index]);
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
