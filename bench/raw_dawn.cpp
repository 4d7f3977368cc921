#include "raw_dawn.h"

#include <cstdlib>
#include <cstring>
#include <vector>

#include "kem/executor_options.h"
#include "wgsl/metering.h"

namespace kem::bench {
namespace {

constexpr auto kTimeout = std::chrono::seconds(120);

Status finished(Result<bool> waited, const char* what) {
  if (!waited) return waited.take_error();
  if (!*waited) return make_error(ErrorCode::timeout, std::string(what) + " timed out");
  return {};
}

}  // namespace

Result<std::unique_ptr<RawDawn>> RawDawn::create(const std::string& wgsl, bool with_meter) {
  std::unique_ptr<RawDawn> self(new RawDawn());
  auto instance = gpu::Instance::create();
  if (!instance) return instance.take_error();
  self->instance_ = std::move(instance).value();
  const char* selector = std::getenv("KEM_ADAPTER");
  auto adapter = self->instance_->request_adapter(selector ? selector : "");
  if (!adapter) return adapter.take_error();
  self->adapter_ = std::move(adapter).value();
  auto device = gpu::Device::create(*self->instance_, self->adapter_);
  if (!device) return device.take_error();
  self->device_ = std::move(device).value();

  auto module = self->device_->compile(wgsl);
  if (!module) return module.take_error();
  self->module_ = std::move(module).value();
  std::vector<gpu::LayoutSlot> slots{{0, gpu::BindingKind::read_only_storage}, {1, gpu::BindingKind::storage}};
  if (with_meter) {
    slots.push_back({kMeterBinding, gpu::BindingKind::storage});
    auto meter = self->device_->create_buffer(kMeterBufferSize, WGPUBufferUsage_Storage | WGPUBufferUsage_CopyDst);
    if (!meter) return meter.take_error();
    self->meter_ = std::move(meter).value();
    const uint32_t words[2] = {ExecutorOptions{}.loop_budget, 0};
    self->device_->write_buffer(self->meter_.get(), 0, words, sizeof words);
  }
  auto layout = self->device_->create_bind_group_layout(slots);
  if (!layout) return layout.take_error();
  self->layout_ = std::move(layout).value();
  auto pipeline = self->device_->create_pipeline(self->module_.get(), self->layout_.get(), "main");
  if (!pipeline) return pipeline.take_error();
  self->pipeline_ = std::move(pipeline).value();
  return self;
}

Status RawDawn::prepare(uint64_t bytes, uint64_t bytes_per_workgroup) {
  if (bytes == bytes_ && bytes_per_workgroup == bytes_per_workgroup_) return {};
  group_.reset();
  input_.reset();
  output_.reset();
  readback_.reset();
  bytes_ = 0;
  auto input = device_->create_buffer(bytes, WGPUBufferUsage_Storage | WGPUBufferUsage_CopyDst | WGPUBufferUsage_CopySrc);
  if (!input) return input.take_error();
  input_ = std::move(input).value();
  auto output = device_->create_buffer(bytes, WGPUBufferUsage_Storage | WGPUBufferUsage_CopySrc | WGPUBufferUsage_CopyDst);
  if (!output) return output.take_error();
  output_ = std::move(output).value();
  auto readback = device_->create_buffer(bytes, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst);
  if (!readback) return readback.take_error();
  readback_ = std::move(readback).value();
  std::vector<gpu::BufferBinding> entries{{0, input_.get(), 0, bytes}, {1, output_.get(), 0, bytes}};
  if (meter_) entries.push_back({kMeterBinding, meter_.get(), 0, kMeterBufferSize});
  auto group = device_->create_bind_group(layout_.get(), entries);
  if (!group) return group.take_error();
  group_ = std::move(group).value();

  const uint64_t groups = (bytes + bytes_per_workgroup - 1) / bytes_per_workgroup;
  const uint64_t max = device_->limits().maxComputeWorkgroupsPerDimension;
  groups_[0] = static_cast<uint32_t>(std::min(groups, max));
  groups_[1] = static_cast<uint32_t>((groups + groups_[0] - 1) / groups_[0]);
  bytes_ = bytes;
  bytes_per_workgroup_ = bytes_per_workgroup;
  if (std::string failure = device_->take_failure(); !failure.empty())
    return make_error(ErrorCode::gpu_error, failure);
  return {};
}

Status RawDawn::round_trip(std::span<const uint8_t> input, uint8_t* output, Variant variant) {
  device_->write_buffer(input_.get(), 0, input.data(), input.size());
  gpu::Commands commands(*device_);
  if (variant.clear_output) commands.clear(output_.get(), 0, bytes_);
  commands.dispatch(pipeline_.get(), group_.get(), groups_[0], groups_[1], 1);
  commands.copy(output_.get(), 0, readback_.get(), 0, bytes_);
  commands.submit();
  const gpu::PendingMap map = device_->start_map_read(readback_.get(), 0, bytes_);
  if (auto s = finished(device_->wait_map(map, gpu::Clock::now() + kTimeout, variant.spin), "mapping"); !s)
    return s;
  const uint8_t* mapped = device_->mapped(readback_.get(), 0, bytes_);
  if (!mapped) {
    device_->unmap(readback_.get());
    return make_error(ErrorCode::gpu_error, "the output could not be mapped");
  }
  std::memcpy(output, mapped, bytes_);
  device_->unmap(readback_.get());
  if (std::string failure = device_->take_failure(); !failure.empty())
    return make_error(ErrorCode::gpu_error, failure);
  return {};
}

Status RawDawn::dispatch_only(int repeats) {
  gpu::Commands commands(*device_);
  for (int i = 0; i < repeats; ++i) commands.dispatch(pipeline_.get(), group_.get(), groups_[0], groups_[1], 1);
  commands.submit();
  return finished(device_->wait_idle(gpu::Clock::now() + kTimeout), "the dispatch");
}

Status RawDawn::copy_only() {
  gpu::Commands commands(*device_);
  commands.copy(input_.get(), 0, output_.get(), 0, bytes_);
  commands.submit();
  return finished(device_->wait_idle(gpu::Clock::now() + kTimeout), "the copy");
}

}  // namespace kem::bench
