// A WebGPU device and its queue, with device-lost and uncaptured-error reporting, plus the
// operations the executor needs (compile, pipelines, buffers, commands, mapping).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "kem/result.h"
#include "webgpu/handles.h"
#include "webgpu/instance.h"

namespace kem::gpu {

using Clock = std::chrono::steady_clock;

enum class BindingKind { uniform, storage, read_only_storage };
struct LayoutSlot {
  uint32_t binding;
  BindingKind kind;
};

struct BufferBinding {
  uint32_t binding;
  WGPUBuffer buffer;
  uint64_t offset;
  uint64_t size;
};

// A MapAsync(Read) in flight: waited on, possibly several times, until it completes.
struct MapState {
  bool done = false;
  bool ok = false;
  std::string message;
};
struct PendingMap {
  WGPUFuture future{};
  std::shared_ptr<MapState> state;
};

// A compute pipeline being created off the calling thread (Dawn's worker threads run the
// driver's compile): see Device::start_pipeline.
struct PipelineState {
  bool done = false;
  WGPUCreatePipelineAsyncStatus status = WGPUCreatePipelineAsyncStatus_CallbackCancelled;
  ComputePipelineHandle pipeline;
  std::string message;
};
struct PendingPipeline {
  WGPUFuture future{};
  std::shared_ptr<PipelineState> state;
  PipelineLayoutHandle layout;  // kept until the pipeline exists
};

// Reported by WebGPU outside any call's control (they surface as the failing call's error).
struct DeviceEvents {
  std::atomic<bool> lost{false};
  std::mutex mutex;
  std::string lost_message;
  std::string uncaptured_errors;  // accumulated until taken
};

class Device {
 public:
  // Requests a device with the adapter's own limits (the defaults cap storage bindings at
  // 128 MiB).
  static Result<std::unique_ptr<Device>> create(Instance& instance, const Adapter& adapter);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const WGPULimits& limits() const { return limits_; }
  bool lost() const { return events_->lost.load(); }
  // Returns "" when the device is healthy; otherwise why it is not.
  std::string take_failure();

  // Compiles WGSL; errors carry "LINE:COLUMN: message" from the compiler's messages.
  Result<ShaderModuleHandle> compile(std::string_view wgsl);
  Result<BindGroupLayoutHandle> create_bind_group_layout(const std::vector<LayoutSlot>& slots);
  // `constants`: the override values (WGPUConstantEntry), keyed as WebGPU wants (name or @id).
  // Waits for start_pipeline's compile (below), without a limit of its own.
  Result<ComputePipelineHandle> create_pipeline(WGPUShaderModule module, WGPUBindGroupLayout layout,
                                                std::string_view entry,
                                                std::span<const std::pair<std::string, double>> constants = {});
  // The same without waiting for the driver's compile, which can take seconds for a large
  // kernel: the thread driving the device serves other calls meanwhile and asks
  // finish_pipeline() (a wait of 0 just looks). The callback fires only inside that wait (or,
  // cancelled, when the instance goes), so it never runs on another thread.
  Result<PendingPipeline> start_pipeline(WGPUShaderModule module, WGPUBindGroupLayout layout, std::string_view entry,
                                         std::span<const std::pair<std::string, double>> constants = {});
  // The pipeline (compile_error when the driver refused it), or nullopt when it is not ready
  // within `timeout`.
  std::optional<Result<ComputePipelineHandle>> finish_pipeline(PendingPipeline& pending,
                                                               std::chrono::nanoseconds timeout);
  Result<BufferHandle> create_buffer(uint64_t size, WGPUBufferUsage usage, bool mapped_at_creation = false);
  Result<BindGroupHandle> create_bind_group(WGPUBindGroupLayout layout,
                                            const std::vector<BufferBinding>& bindings);

  void write_buffer(WGPUBuffer buffer, uint64_t offset, const void* data, size_t size);

  // Maps `size` bytes of a MapRead buffer, waiting until `deadline`. Returns false on timeout.
  Result<bool> map_read(WGPUBuffer buffer, uint64_t offset, uint64_t size, Clock::time_point deadline);
  const uint8_t* mapped(WGPUBuffer buffer, uint64_t offset, uint64_t size);

  // The same in two steps, so a caller can wait in slices (one per call deadline of a batch).
  // `spin` polls without sleeping for up to that long before blocking: on a GPU the wake-up
  // from a blocking wait costs tens of microseconds, more than a tiny call's work.
  PendingMap start_map_read(WGPUBuffer buffer, uint64_t offset, uint64_t size);
  PendingMap start_map_write(WGPUBuffer buffer, uint64_t offset, uint64_t size);
  uint8_t* mapped_writable(WGPUBuffer buffer, uint64_t offset, uint64_t size);
  Result<bool> wait_map(const PendingMap& map, Clock::time_point deadline,
                        std::chrono::nanoseconds spin = std::chrono::nanoseconds(0));
  void unmap(WGPUBuffer buffer);

  // Waits for all submitted work. Returns false on timeout.
  Result<bool> wait_idle(Clock::time_point deadline);

  // Destroys the device now (test hook and abandonment); later calls on it fail cleanly.
  void destroy();

  WGPUDevice raw() const { return device_.get(); }
  WGPUQueue queue() const { return queue_.get(); }
  Instance& instance() const { return *instance_; }

 private:
  Device() = default;
  // Runs `work` inside validation + out-of-memory + internal error scopes.
  Status scoped(const char* what, const std::function<void()>& work);
  PendingMap start_map(WGPUBuffer buffer, WGPUMapMode mode, uint64_t offset, uint64_t size);

  Instance* instance_ = nullptr;
  WGPULimits limits_{};
  std::shared_ptr<DeviceEvents> events_;  // outlives device_: declared first, destroyed last
  DeviceHandle device_;
  QueueHandle queue_;
};

// One command buffer: clears, copies, a dispatch, submitted together.
class Commands {
 public:
  explicit Commands(Device& device);
  void clear(WGPUBuffer buffer, uint64_t offset, uint64_t size);
  void copy(WGPUBuffer from, uint64_t from_offset, WGPUBuffer to, uint64_t to_offset, uint64_t size);
  void dispatch(WGPUComputePipeline pipeline, WGPUBindGroup group, uint32_t x, uint32_t y, uint32_t z);
  struct Dispatch {
    WGPUComputePipeline pipeline;
    WGPUBindGroup group;
    uint32_t x, y, z;
  };
  // Several dispatches in one compute pass (each still sees the previous ones' writes).
  void dispatch_all(const std::vector<Dispatch>& dispatches);
  void submit();

 private:
  Device& device_;
  CommandEncoderHandle encoder_;
};

}  // namespace kem::gpu
