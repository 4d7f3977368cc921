#include "webgpu/device.h"

#include <functional>

#include "webgpu/callback_box.h"

namespace kem::gpu {
namespace {

struct DeviceRequest {
  WGPURequestDeviceStatus status{};
  WGPUDevice device = nullptr;
  std::string message;
};

struct ScopeResult {
  WGPUPopErrorScopeStatus status{};
  WGPUErrorType type{};
  std::string message;
};

struct CompileResult {
  bool done = false;
  std::string errors;
};

struct Completion {
  bool done = false;
  bool ok = false;
  std::string message;
};

std::string error_type_name(WGPUErrorType type) {
  switch (type) {
    case WGPUErrorType_Validation: return "validation error";
    case WGPUErrorType_OutOfMemory: return "out of memory";
    case WGPUErrorType_Internal: return "internal error";
    default: return "error";
  }
}

std::chrono::nanoseconds until(Clock::time_point deadline) {
  return std::max(Clock::duration::zero(), deadline - Clock::now());
}

}  // namespace

Result<std::unique_ptr<Device>> Device::create(Instance& instance, const Adapter& adapter) {
  std::unique_ptr<Device> self(new Device());
  self->instance_ = &instance;
  self->events_ = std::make_shared<DeviceEvents>();

  WGPULimits required = adapter.limits;
  required.nextInChain = nullptr;
  WGPUDeviceDescriptor descriptor{};
  descriptor.label = to_view("kem");
  descriptor.requiredLimits = &required;

  // The lost callback fires exactly once, maybe after this Device is gone: it owns a reference.
  descriptor.deviceLostCallbackInfo.mode = WGPUCallbackMode_AllowSpontaneous;
  descriptor.deviceLostCallbackInfo.userdata1 = new std::shared_ptr<DeviceEvents>(self->events_);
  descriptor.deviceLostCallbackInfo.callback = [](const WGPUDevice*, WGPUDeviceLostReason reason,
                                                  WGPUStringView message, void* userdata1, void*) {
    auto events = CallbackBox<DeviceEvents>::take(userdata1);
    if (reason == WGPUDeviceLostReason_FailedCreation) return;
    std::lock_guard lock((*events)->mutex);
    (*events)->lost_message = "device lost: " + std::string(from_view(message));
    (*events)->lost = true;
  };
  // Uncaptured errors can only arrive while the device exists, and events_ outlives it.
  descriptor.uncapturedErrorCallbackInfo.userdata1 = self->events_.get();
  descriptor.uncapturedErrorCallbackInfo.callback = [](const WGPUDevice*, WGPUErrorType type,
                                                       WGPUStringView message, void* userdata1, void*) {
    auto* events = static_cast<DeviceEvents*>(userdata1);
    std::lock_guard lock(events->mutex);
    if (events->uncaptured_errors.size() < 4096)
      events->uncaptured_errors += error_type_name(type) + ": " + std::string(from_view(message)) + "\n";
  };

  auto [state, userdata] = CallbackBox<DeviceRequest>::make();
  WGPURequestDeviceCallbackInfo callback{};
  callback.mode = WGPUCallbackMode_WaitAnyOnly;
  callback.userdata1 = userdata;
  callback.callback = [](WGPURequestDeviceStatus status, WGPUDevice device, WGPUStringView message,
                         void* userdata1, void*) {
    auto box = CallbackBox<DeviceRequest>::take(userdata1);
    (*box)->status = status;
    (*box)->device = device;
    (*box)->message = std::string(from_view(message));
  };
  WGPUFuture future = wgpuAdapterRequestDevice(adapter.handle.get(), &descriptor, callback);
  auto waited = instance.wait(future, std::chrono::seconds(60));
  if (!waited) return waited.take_error();
  if (!*waited) return make_error(ErrorCode::no_adapter, "timed out creating the GPU device");
  self->device_ = DeviceHandle(state->device);
  if (state->status != WGPURequestDeviceStatus_Success || !self->device_)
    return make_error(ErrorCode::no_adapter, "could not create the GPU device: " + state->message);
  self->queue_ = QueueHandle(wgpuDeviceGetQueue(self->device_.get()));
  wgpuDeviceGetLimits(self->device_.get(), &self->limits_);
  self->limits_.nextInChain = nullptr;
  return self;
}

Device::~Device() {
  queue_.reset();
  device_.reset();
}

std::string Device::take_failure() {
  std::lock_guard lock(events_->mutex);
  if (events_->lost) return events_->lost_message;
  std::string errors = std::move(events_->uncaptured_errors);
  events_->uncaptured_errors.clear();
  return errors;
}

void Device::destroy() {
  if (device_) wgpuDeviceDestroy(device_.get());
}

Status Device::scoped(const char* what, const std::function<void()>& work) {
  const WGPUErrorFilter filters[] = {WGPUErrorFilter_Validation, WGPUErrorFilter_OutOfMemory,
                                     WGPUErrorFilter_Internal};
  for (auto f : filters) wgpuDevicePushErrorScope(device_.get(), f);
  work();
  std::string failure;
  ErrorCode code = ErrorCode::gpu_error;
  for (int i = 0; i < 3; ++i) {
    auto [state, userdata] = CallbackBox<ScopeResult>::make();
    WGPUPopErrorScopeCallbackInfo callback{};
    callback.mode = WGPUCallbackMode_WaitAnyOnly;
    callback.userdata1 = userdata;
    callback.callback = [](WGPUPopErrorScopeStatus status, WGPUErrorType type, WGPUStringView message,
                           void* userdata1, void*) {
      auto box = CallbackBox<ScopeResult>::take(userdata1);
      (*box)->status = status;
      (*box)->type = type;
      (*box)->message = std::string(from_view(message));
    };
    auto waited = instance_->wait(wgpuDevicePopErrorScope(device_.get(), callback), std::chrono::seconds(30));
    if (!waited || !*waited) return make_error(ErrorCode::timeout, std::string(what) + ": error scope did not resolve");
    if (state->status == WGPUPopErrorScopeStatus_Success && state->type != WGPUErrorType_NoError &&
        failure.empty()) {
      failure = error_type_name(state->type) + ": " + state->message;
      if (state->type == WGPUErrorType_OutOfMemory) code = ErrorCode::limit_exceeded;
    }
  }
  if (lost()) return make_error(ErrorCode::device_lost, take_failure());
  if (!failure.empty()) return make_error(code, std::string(what) + " failed: " + failure);
  return {};
}

Result<ShaderModuleHandle> Device::compile(std::string_view wgsl) {
  WGPUShaderSourceWGSL source{};
  source.chain.sType = WGPUSType_ShaderSourceWGSL;
  source.code = to_view(wgsl);
  WGPUShaderModuleDescriptor descriptor{};
  descriptor.nextInChain = &source.chain;
  ShaderModuleHandle module;
  Status created = scoped("shader compilation", [&] {
    module = ShaderModuleHandle(wgpuDeviceCreateShaderModule(device_.get(), &descriptor));
  });

  // The compilation messages carry line and column; prefer them over the scope's summary.
  auto [state, userdata] = CallbackBox<CompileResult>::make();
  WGPUCompilationInfoCallbackInfo callback{};
  callback.mode = WGPUCallbackMode_WaitAnyOnly;
  callback.userdata1 = userdata;
  callback.callback = [](WGPUCompilationInfoRequestStatus status, const WGPUCompilationInfo* info,
                         void* userdata1, void*) {
    auto box = CallbackBox<CompileResult>::take(userdata1);
    (*box)->done = true;
    if (status != WGPUCompilationInfoRequestStatus_Success || !info) return;
    for (size_t i = 0; i < info->messageCount; ++i) {
      const auto& m = info->messages[i];
      if (m.type != WGPUCompilationMessageType_Error) continue;
      (*box)->errors += std::to_string(m.lineNum) + ":" + std::to_string(m.linePos) + ": " +
                        std::string(from_view(m.message)) + "\n";
    }
  };
  if (module) {
    auto waited = instance_->wait(wgpuShaderModuleGetCompilationInfo(module.get(), callback),
                                  std::chrono::seconds(30));
    if (!waited || !*waited) return make_error(ErrorCode::timeout, "shader compilation info did not arrive");
  } else {
    delete static_cast<std::shared_ptr<CompileResult>*>(userdata);
  }
  if (!state->errors.empty()) {
    std::string errors = state->errors;
    errors.pop_back();
    return make_error(ErrorCode::compile_error, errors);
  }
  if (!created) {
    Error e = created.take_error();
    if (e.code == ErrorCode::gpu_error) e.code = ErrorCode::compile_error;
    return e;
  }
  return module;
}

Result<BindGroupLayoutHandle> Device::create_bind_group_layout(const std::vector<LayoutSlot>& slots) {
  std::vector<WGPUBindGroupLayoutEntry> entries(slots.size());
  for (size_t i = 0; i < slots.size(); ++i) {
    auto& e = entries[i];
    e.binding = slots[i].binding;
    e.visibility = WGPUShaderStage_Compute;
    switch (slots[i].kind) {
      case BindingKind::uniform: e.buffer.type = WGPUBufferBindingType_Uniform; break;
      case BindingKind::storage: e.buffer.type = WGPUBufferBindingType_Storage; break;
      case BindingKind::read_only_storage: e.buffer.type = WGPUBufferBindingType_ReadOnlyStorage; break;
    }
  }
  WGPUBindGroupLayoutDescriptor descriptor{};
  descriptor.entryCount = entries.size();
  descriptor.entries = entries.data();
  BindGroupLayoutHandle layout;
  Status status = scoped("bind group layout", [&] {
    layout = BindGroupLayoutHandle(wgpuDeviceCreateBindGroupLayout(device_.get(), &descriptor));
  });
  if (!status) return status.take_error();
  return layout;
}

Result<ComputePipelineHandle> Device::create_pipeline(WGPUShaderModule module, WGPUBindGroupLayout layout,
                                                      std::string_view entry,
                                                      std::span<const std::pair<std::string, double>> constants) {
  auto pending = start_pipeline(module, layout, entry, constants);
  if (!pending) return pending.take_error();
  // No limit, as the driver's compile has none: the caller's watchdog (the GPU worker's) is
  // what bounds a driver that never finishes.
  std::optional<Result<ComputePipelineHandle>> done;
  while (!(done = finish_pipeline(*pending, std::chrono::seconds(1)))) {
  }
  return std::move(*done);
}

Result<PendingPipeline> Device::start_pipeline(WGPUShaderModule module, WGPUBindGroupLayout layout,
                                               std::string_view entry,
                                               std::span<const std::pair<std::string, double>> constants) {
  std::vector<WGPUConstantEntry> entries(constants.size());
  for (size_t i = 0; i < constants.size(); ++i) {
    entries[i].key = to_view(constants[i].first);
    entries[i].value = constants[i].second;
  }
  WGPUPipelineLayoutDescriptor layout_descriptor{};
  layout_descriptor.bindGroupLayoutCount = 1;
  layout_descriptor.bindGroupLayouts = &layout;
  PendingPipeline pending;
  Status made = scoped("pipeline layout", [&] {
    pending.layout = PipelineLayoutHandle(wgpuDeviceCreatePipelineLayout(device_.get(), &layout_descriptor));
  });
  if (!made) return made.take_error();
  WGPUComputePipelineDescriptor descriptor{};
  descriptor.layout = pending.layout.get();
  descriptor.compute.module = module;
  descriptor.compute.entryPoint = to_view(entry);
  descriptor.compute.constantCount = entries.size();
  descriptor.compute.constants = entries.empty() ? nullptr : entries.data();
  auto [state, userdata] = CallbackBox<PipelineState>::make();
  WGPUCreateComputePipelineAsyncCallbackInfo callback{};
  callback.mode = WGPUCallbackMode_WaitAnyOnly;
  callback.userdata1 = userdata;
  callback.callback = [](WGPUCreatePipelineAsyncStatus status, WGPUComputePipeline pipeline, WGPUStringView message,
                         void* userdata1, void*) {
    auto box = CallbackBox<PipelineState>::take(userdata1);
    (*box)->pipeline = ComputePipelineHandle(pipeline);  // owned from here, even if nobody waits
    (*box)->status = status;
    (*box)->message = std::string(from_view(message));
    (*box)->done = true;
  };
  pending.future = wgpuDeviceCreateComputePipelineAsync(device_.get(), &descriptor, callback);
  pending.state = std::move(state);
  return pending;
}

std::optional<Result<ComputePipelineHandle>> Device::finish_pipeline(PendingPipeline& pending,
                                                                     std::chrono::nanoseconds timeout) {
  if (!pending.state->done) {
    auto waited = instance_->wait(pending.future, timeout);
    if (!waited) return Result<ComputePipelineHandle>(waited.take_error());
    if (!*waited && !pending.state->done) return std::nullopt;
  }
  PipelineState& s = *pending.state;
  if (lost()) return Result<ComputePipelineHandle>(make_error(ErrorCode::device_lost, take_failure()));
  if (s.status == WGPUCreatePipelineAsyncStatus_Success && s.pipeline)
    return Result<ComputePipelineHandle>(std::move(s.pipeline));
  // Worded as create_pipeline's scoped errors are: the same kernel fails the same way either way.
  if (s.status == WGPUCreatePipelineAsyncStatus_CallbackCancelled)
    return Result<ComputePipelineHandle>(make_error(ErrorCode::device_lost, "compute pipeline: the device went away"));
  const bool validation = s.status == WGPUCreatePipelineAsyncStatus_ValidationError;
  return Result<ComputePipelineHandle>(
      make_error(ErrorCode::compile_error, std::string("compute pipeline failed: ") +
                                               error_type_name(validation ? WGPUErrorType_Validation : WGPUErrorType_Internal) +
                                               ": " + s.message));
}

Result<BufferHandle> Device::create_buffer(uint64_t size, WGPUBufferUsage usage, bool mapped_at_creation) {
  WGPUBufferDescriptor descriptor{};
  descriptor.usage = usage;
  descriptor.size = size;
  descriptor.mappedAtCreation = mapped_at_creation ? 1 : 0;
  BufferHandle buffer;
  Status status = scoped("buffer allocation", [&] {
    buffer = BufferHandle(wgpuDeviceCreateBuffer(device_.get(), &descriptor));
  });
  if (!status) return status.take_error();
  return buffer;
}

Result<BindGroupHandle> Device::create_bind_group(WGPUBindGroupLayout layout,
                                                  const std::vector<BufferBinding>& bindings) {
  std::vector<WGPUBindGroupEntry> entries(bindings.size());
  for (size_t i = 0; i < bindings.size(); ++i) {
    entries[i].binding = bindings[i].binding;
    entries[i].buffer = bindings[i].buffer;
    entries[i].offset = bindings[i].offset;
    entries[i].size = bindings[i].size;
  }
  WGPUBindGroupDescriptor descriptor{};
  descriptor.layout = layout;
  descriptor.entryCount = entries.size();
  descriptor.entries = entries.data();
  // Bind-group creation sits on every call's path: no error scope here (it would cost a wait);
  // a validation error surfaces through the uncaptured-error callback as the call's error.
  return BindGroupHandle(wgpuDeviceCreateBindGroup(device_.get(), &descriptor));
}

void Device::write_buffer(WGPUBuffer buffer, uint64_t offset, const void* data, size_t size) {
  wgpuQueueWriteBuffer(queue_.get(), buffer, offset, data, size);
}

Result<bool> Device::map_read(WGPUBuffer buffer, uint64_t offset, uint64_t size, Clock::time_point deadline) {
  return wait_map(start_map_read(buffer, offset, size), deadline);
}

PendingMap Device::start_map_read(WGPUBuffer buffer, uint64_t offset, uint64_t size) {
  return start_map(buffer, WGPUMapMode_Read, offset, size);
}

PendingMap Device::start_map_write(WGPUBuffer buffer, uint64_t offset, uint64_t size) {
  return start_map(buffer, WGPUMapMode_Write, offset, size);
}

uint8_t* Device::mapped_writable(WGPUBuffer buffer, uint64_t offset, uint64_t size) {
  return static_cast<uint8_t*>(wgpuBufferGetMappedRange(buffer, offset, size));
}

PendingMap Device::start_map(WGPUBuffer buffer, WGPUMapMode mode, uint64_t offset, uint64_t size) {
  auto [state, userdata] = CallbackBox<MapState>::make();
  WGPUBufferMapCallbackInfo callback{};
  callback.mode = WGPUCallbackMode_WaitAnyOnly;
  callback.userdata1 = userdata;
  callback.callback = [](WGPUMapAsyncStatus status, WGPUStringView message, void* userdata1, void*) {
    auto box = CallbackBox<MapState>::take(userdata1);
    (*box)->done = true;
    (*box)->ok = status == WGPUMapAsyncStatus_Success;
    (*box)->message = std::string(from_view(message));
  };
  return {wgpuBufferMapAsync(buffer, mode, offset, size, callback), state};
}

Result<bool> Device::wait_map(const PendingMap& map, Clock::time_point deadline, std::chrono::nanoseconds spin) {
  bool finished = false;
  if (spin.count() > 0) {
    const auto stop_spinning = std::min(deadline, Clock::now() + spin);
    do {
      auto polled = instance_->wait(map.future, std::chrono::nanoseconds(0));
      if (!polled) return polled.take_error();
      finished = *polled;
    } while (!finished && Clock::now() < stop_spinning);
  }
  if (!finished) {
    auto waited = instance_->wait(map.future, until(deadline));
    if (!waited) return waited.take_error();
    if (!*waited) return false;
  }
  if (lost()) return make_error(ErrorCode::device_lost, take_failure());
  if (!map.state->ok) return make_error(ErrorCode::gpu_error, "mapping a buffer failed: " + map.state->message);
  return true;
}

const uint8_t* Device::mapped(WGPUBuffer buffer, uint64_t offset, uint64_t size) {
  return static_cast<const uint8_t*>(wgpuBufferGetConstMappedRange(buffer, offset, size));
}

void Device::unmap(WGPUBuffer buffer) { wgpuBufferUnmap(buffer); }

Result<bool> Device::wait_idle(Clock::time_point deadline) {
  auto [state, userdata] = CallbackBox<Completion>::make();
  WGPUQueueWorkDoneCallbackInfo callback{};
  callback.mode = WGPUCallbackMode_WaitAnyOnly;
  callback.userdata1 = userdata;
  callback.callback = [](WGPUQueueWorkDoneStatus status, WGPUStringView message, void* userdata1, void*) {
    auto box = CallbackBox<Completion>::take(userdata1);
    (*box)->done = true;
    (*box)->ok = status == WGPUQueueWorkDoneStatus_Success;
    (*box)->message = std::string(from_view(message));
  };
  auto waited = instance_->wait(wgpuQueueOnSubmittedWorkDone(queue_.get(), callback), until(deadline));
  if (!waited) return waited.take_error();
  if (!*waited) return false;
  if (lost()) return make_error(ErrorCode::device_lost, take_failure());
  if (!state->ok) return make_error(ErrorCode::gpu_error, "queue work failed: " + state->message);
  return true;
}

Commands::Commands(Device& device)
    : device_(device), encoder_(wgpuDeviceCreateCommandEncoder(device.raw(), nullptr)) {}

void Commands::clear(WGPUBuffer buffer, uint64_t offset, uint64_t size) {
  wgpuCommandEncoderClearBuffer(encoder_.get(), buffer, offset, size);
}

void Commands::copy(WGPUBuffer from, uint64_t from_offset, WGPUBuffer to, uint64_t to_offset, uint64_t size) {
  wgpuCommandEncoderCopyBufferToBuffer(encoder_.get(), from, from_offset, to, to_offset, size);
}

void Commands::dispatch(WGPUComputePipeline pipeline, WGPUBindGroup group, uint32_t x, uint32_t y, uint32_t z) {
  ComputePassHandle pass(wgpuCommandEncoderBeginComputePass(encoder_.get(), nullptr));
  wgpuComputePassEncoderSetPipeline(pass.get(), pipeline);
  wgpuComputePassEncoderSetBindGroup(pass.get(), 0, group, 0, nullptr);
  wgpuComputePassEncoderDispatchWorkgroups(pass.get(), x, y, z);
  wgpuComputePassEncoderEnd(pass.get());
}

void Commands::dispatch_all(const std::vector<Dispatch>& dispatches) {
  ComputePassHandle pass(wgpuCommandEncoderBeginComputePass(encoder_.get(), nullptr));
  WGPUComputePipeline current = nullptr;
  for (const Dispatch& d : dispatches) {
    if (d.pipeline != current) wgpuComputePassEncoderSetPipeline(pass.get(), current = d.pipeline);
    wgpuComputePassEncoderSetBindGroup(pass.get(), 0, d.group, 0, nullptr);
    wgpuComputePassEncoderDispatchWorkgroups(pass.get(), d.x, d.y, d.z);
  }
  wgpuComputePassEncoderEnd(pass.get());
}

void Commands::submit() {
  CommandBufferHandle commands(wgpuCommandEncoderFinish(encoder_.get(), nullptr));
  WGPUCommandBuffer raw = commands.get();
  wgpuQueueSubmit(device_.queue(), 1, &raw);
}

}  // namespace kem::gpu
