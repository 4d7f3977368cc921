#include "executor/gpu_session.h"

#include <cstring>

#include "kem/metering.h"
#include <vector>

namespace kem::executor {

Result<std::unique_ptr<GpuSession>> GpuSession::create(gpu::Instance& instance, const gpu::Adapter& adapter,
                                                       const ExecutorOptions& options, Counters& counters) {
  auto device = gpu::Device::create(instance, adapter);
  if (!device) return device.take_error();
  return std::unique_ptr<GpuSession>(new GpuSession(std::move(device).value(), options, counters));
}

GpuSession::GpuSession(std::unique_ptr<gpu::Device> device, const ExecutorOptions& options, Counters& counters)
    : device_(std::move(device)), options_(options), counters_(counters), cache_(options.pipeline_cache_capacity) {
  const auto& l = device_->limits();
  limits_.max_storage_binding = l.maxStorageBufferBindingSize;
  limits_.max_uniform_binding = l.maxUniformBufferBindingSize;
  limits_.max_buffer = l.maxBufferSize;
  limits_.max_workgroups_per_dimension = l.maxComputeWorkgroupsPerDimension;
}

Result<std::shared_ptr<CompiledKernel>> GpuSession::kernel(std::string_view source, std::string_view entry,
                                                           bool metered) {
  if (auto cached = cache_.find(source, entry, metered)) {
    ++counters_.pipeline_hits;
    return cached;
  }
  ++counters_.pipeline_misses;
  auto compiled = compile_kernel(*device_, source, entry, metered);
  if (!compiled) return compiled.take_error();
  auto shared = std::make_shared<CompiledKernel>(std::move(compiled).value());
  cache_.insert(source, entry, metered, shared);
  return shared;
}

Status GpuSession::upload(const KernelRequest& request, const CallShape& shape, WGPUBuffer input,
                          WGPUBuffer params) {
  // WriteBuffer takes whole 4-byte words: the aligned body goes as is, a ragged tail is padded
  // with zeros, so every byte of the bound input range belongs to this call.
  const uint64_t body = shape.input_bytes / 4 * 4;
  if (body) device_->write_buffer(input, 0, request.input.data(), body);
  if (body < shape.input_binding_bytes) {
    uint8_t tail[4] = {0, 0, 0, 0};
    std::memcpy(tail, request.input.data() + body, shape.input_bytes - body);
    device_->write_buffer(input, body, tail, 4);
  }
  if (shape.params_binding_bytes) {
    std::vector<uint8_t> padded(shape.params_binding_bytes, 0);
    if (!request.params.empty()) std::memcpy(padded.data(), request.params.data(), request.params.size());
    device_->write_buffer(params, 0, padded.data(), padded.size());
  }
  return {};
}

Status GpuSession::run(const KernelRequest& request, gpu::Clock::time_point deadline,
                       const std::function<void(OutputView)>& deliver) {
  const bool metered = options_.metering && !request.unmetered;
  auto compiled = kernel(request.source, request.entry, metered);
  if (!compiled) return compiled.take_error();
  const CompiledKernel& k = **compiled;

  auto shaped = shape_call(request, options_, limits_, k.shape);
  if (!shaped) return shaped.take_error();
  const CallShape& shape = *shaped;

  auto input = buffers_.input.ensure(*device_, shape.input_binding_bytes);
  if (!input) return input.take_error();
  auto output = buffers_.output.ensure(*device_, shape.output_binding_bytes);
  if (!output) return output.take_error();
  // The meter's words are read back behind the output, in the same mapping.
  const uint64_t meter_offset = round_up(shape.output_binding_bytes, 8);
  const uint64_t readback_bytes = k.metered ? meter_offset + kMeterBufferSize : shape.output_binding_bytes;
  auto readback = buffers_.readback.ensure(*device_, readback_bytes);
  if (!readback) return readback.take_error();
  WGPUBuffer params = nullptr;
  if (shape.params_binding_bytes) {
    auto p = buffers_.params.ensure(*device_, shape.params_binding_bytes);
    if (!p) return p.take_error();
    params = *p;
  }

  std::vector<gpu::BufferBinding> bindings;
  if (k.declares_input) bindings.push_back({kInputBinding, *input, 0, shape.input_binding_bytes});
  if (k.declares_output) bindings.push_back({kOutputBinding, *output, 0, shape.output_binding_bytes});
  if (k.shape.declares_params) bindings.push_back({kParamsBinding, params, 0, shape.params_binding_bytes});
  WGPUBuffer meter = nullptr;
  if (k.metered) {
    auto m = buffers_.meter.ensure(*device_, kMeterBufferSize);
    if (!m) return m.take_error();
    meter = *m;
    bindings.push_back({kMeterBinding, meter, 0, kMeterBufferSize});
    const uint32_t words[2] = {effective_loop_budget(options_.loop_budget, request.loop_budget), 0};
    device_->write_buffer(meter, 0, words, sizeof words);
  }
  auto group = device_->create_bind_group(k.layout.get(), bindings);
  if (!group) return group.take_error();

  if (auto uploaded = upload(request, shape, *input, params); !uploaded) return uploaded;

  // One submission: clear the output range, dispatch, copy the output out for mapping.
  gpu::Commands commands(*device_);
  commands.clear(*output, 0, shape.output_binding_bytes);
  commands.dispatch(k.pipeline.get(), group->get(), shape.workgroups[0], shape.workgroups[1],
                    shape.workgroups[2]);
  commands.copy(*output, 0, *readback, 0, shape.output_binding_bytes);
  if (meter) commands.copy(meter, 0, *readback, meter_offset, kMeterBufferSize);
  commands.submit();

  auto mapped = device_->map_read(*readback, 0, readback_bytes, deadline);
  if (!mapped) {
    if (device_->lost()) abandoned_ = true;
    return mapped.take_error();
  }
  if (!*mapped) {
    // The GPU may still be running this call: nothing more can go to this device.
    abandoned_ = true;
    return make_error(ErrorCode::timeout, "the kernel did not finish before its deadline");
  }
  if (std::string failure = device_->take_failure(); !failure.empty()) {
    device_->unmap(*readback);
    if (device_->lost()) abandoned_ = true;
    return make_error(device_->lost() ? ErrorCode::device_lost : ErrorCode::gpu_error, failure);
  }
  const uint8_t* bytes = device_->mapped(*readback, 0, readback_bytes);
  if (!bytes) {
    device_->unmap(*readback);
    return make_error(ErrorCode::gpu_error, "the output could not be mapped");
  }
  if (meter) {
    uint32_t exceeded = 0;
    std::memcpy(&exceeded, bytes + meter_offset + 4 * kMeterExceededWord, 4);
    if (exceeded) {
      device_->unmap(*readback);
      return make_error(ErrorCode::budget_exceeded,
                        "the kernel ran past its loop budget of " +
                            std::to_string(effective_loop_budget(options_.loop_budget, request.loop_budget)) +
                            " iterations per invocation; its output is discarded");
    }
  }
  deliver(OutputView(bytes, shape.output_bytes));
  device_->unmap(*readback);
  return {};
}

}  // namespace kem::executor
