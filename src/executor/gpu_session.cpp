#include "executor/gpu_session.h"

#include <algorithm>
#include <cstring>

#include "wgsl/metering.h"

namespace kem::executor {
namespace {
// While a submission runs, the GPU thread looks at the queue this often for calls whose
// deadline passed (a blocking wait cannot be woken by a new call).
constexpr auto kQueueCheckInterval = std::chrono::milliseconds(20);
}  // namespace

Result<std::unique_ptr<GpuSession>> GpuSession::create(gpu::Instance& instance, const gpu::Adapter& adapter,
                                                       const ExecutorOptions& options, Counters& counters) {
  auto device = gpu::Device::create(instance, adapter);
  if (!device) return device.take_error();
  return std::unique_ptr<GpuSession>(
      new GpuSession(std::move(device).value(), options, counters, adapter.description.adapter_type == "cpu"));
}

GpuSession::GpuSession(std::unique_ptr<gpu::Device> device, const ExecutorOptions& options, Counters& counters,
                       bool cpu_adapter)
    : device_(std::move(device)), options_(options), counters_(counters), cache_(options.pipeline_cache_capacity) {
  spin_ = options.spin_wait.value_or(cpu_adapter ? std::chrono::microseconds(0) : std::chrono::microseconds(100));
  const auto& l = device_->limits();
  limits_.max_storage_binding = l.maxStorageBufferBindingSize;
  limits_.max_uniform_binding = l.maxUniformBufferBindingSize;
  limits_.max_buffer = l.maxBufferSize;
  limits_.max_workgroups_per_dimension = l.maxComputeWorkgroupsPerDimension;
  storage_alignment_ = std::max<uint64_t>(8, l.minStorageBufferOffsetAlignment);
  uniform_alignment_ = std::max<uint64_t>(16, l.minUniformBufferOffsetAlignment);
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
  shared->serial = next_kernel_serial_++;
  cache_.insert(source, entry, metered, shared);
  return shared;
}

Result<PreparedCall> GpuSession::prepare(PendingCall& call) {
  if (gpu::Clock::now() >= call.deadline)
    return make_error(ErrorCode::timeout, "the call waited in the queue past its deadline");
  const KernelRequest& request = call.request;
  const bool metered = options_.metering && !request.unmetered;
  auto compiled = kernel(request.source, request.entry, metered);
  if (!compiled) return compiled.take_error();
  auto shape = shape_call(request, options_, limits_, (*compiled)->shape);
  if (!shape) return shape.take_error();
  PreparedCall prepared;
  prepared.call = &call;
  prepared.kernel = std::move(compiled).value();
  prepared.shape = *shape;
  prepared.loop_budget = effective_loop_budget(options_.loop_budget, request.loop_budget);
  return prepared;
}

bool GpuSession::batchable(const PreparedCall& call) const {
  return call.shape.input_binding_bytes <= options_.batch_call_bytes &&
         call.shape.output_binding_bytes <= options_.batch_call_bytes;
}

bool GpuSession::staged(const PreparedCall& call) const {
  return call.shape.input_binding_bytes >= options_.staged_transfer_bytes ||
         call.shape.output_binding_bytes >= options_.staged_transfer_bytes;
}

Result<uint8_t*> GpuSession::output_destination(const PreparedCall& call, uint8_t* fallback) {
  if (!call.call->request.output_into) return fallback;
  uint8_t* memory = call.call->request.output_into(call.shape.output_bytes);
  if (!memory) return make_error(ErrorCode::limit_exceeded,
                      "no memory for an output of " + std::to_string(call.shape.output_bytes) +
                          " bytes (output_into gave none)");
  return memory;
}

size_t GpuSession::run_calls(std::span<PendingCall> calls, const QueueExpiry& expire_queued) {
  expire_queued_ = &expire_queued;
  // Every call before the returned index has been answered; none after it has been touched.
  std::vector<PreparedCall> batch;
  const size_t batch_limit = std::max<size_t>(1, options_.max_batch_calls);
  auto flush = [&] {
    if (!batch.empty()) run_batch(batch);
    batch.clear();
    return healthy();
  };
  for (size_t i = 0; i < calls.size(); ++i) {
    auto prepared = prepare(calls[i]);
    if (!prepared) {
      calls[i].answer(prepared.take_error());
      continue;
    }
    if (batchable(*prepared)) {
      batch.push_back(std::move(prepared).value());
      if (batch.size() >= batch_limit && !flush()) return i + 1;
    } else {
      if (!flush()) return i;  // calls in order: the batch gathered so far goes first
      std::vector<PreparedCall> alone{std::move(prepared).value()};
      if (staged(alone[0])) run_staged(alone[0]);
      else run_batch(alone);
      if (!healthy()) return i + 1;
    }
  }
  flush();
  return calls.size();
}

void GpuSession::upload(std::span<PreparedCall> calls, const BatchLayout& layout, WGPUBuffer input,
                        WGPUBuffer params, WGPUBuffer meter) {
  // WriteBuffer takes whole 4-byte words, so each input's ragged tail goes padded with zeros:
  // every byte of a bound range belongs to its call. WriteBuffer copies the host bytes before it
  // returns, so one staging vector serves the inputs, then the params, then the meters.
  if (calls.size() == 1 && !batchable(calls[0])) {
    // A large call: straight from the caller's memory, no packing copy.
    const KernelRequest& request = calls[0].call->request;
    const uint64_t body = calls[0].shape.input_bytes / 4 * 4;
    if (body) device_->write_buffer(input, 0, request.input.data(), body);
    if (body < calls[0].shape.input_binding_bytes) {
      uint8_t tail[4] = {0, 0, 0, 0};
      std::memcpy(tail, request.input.data() + body, calls[0].shape.input_bytes - body);
      device_->write_buffer(input, body, tail, 4);
    }
  } else {
    staging_.resize(layout.input_bytes);
    uint64_t end = 0;
    for (const PreparedCall& c : calls) {
      const auto& bytes = c.call->request.input;
      std::memset(staging_.data() + end, 0, c.at.input - end);  // the gap before this slice
      std::memcpy(staging_.data() + c.at.input, bytes.data(), bytes.size());
      end = c.at.input + c.shape.input_binding_bytes;
      std::memset(staging_.data() + c.at.input + bytes.size(), 0, end - c.at.input - bytes.size());
    }
    device_->write_buffer(input, 0, staging_.data(), layout.input_bytes);
  }
  if (layout.has_params) {
    staging_.assign(layout.params_bytes, 0);
    for (const PreparedCall& c : calls) {
      const auto& p = c.call->request.params;
      if (c.shape.params_binding_bytes && !p.empty()) std::memcpy(staging_.data() + c.at.params, p.data(), p.size());
    }
    device_->write_buffer(params, 0, staging_.data(), layout.params_bytes);
  }
  if (layout.metered) {
    staging_.assign(layout.meter_bytes, 0);
    for (const PreparedCall& c : calls) {
      if (!c.kernel->metered) continue;
      const uint32_t words[2] = {c.loop_budget, 0};
      std::memcpy(staging_.data() + c.at.meter, words, sizeof words);
    }
    device_->write_buffer(meter, 0, staging_.data(), layout.meter_bytes);
  }
}

Result<WGPUBindGroup> GpuSession::bind_group(const PreparedCall& c, WGPUBuffer input, WGPUBuffer output,
                                             WGPUBuffer params, WGPUBuffer meter) {
  const CompiledKernel& k = *c.kernel;
  BindGroupKey key;
  key.kernel_serial = k.serial;
  key.input_offset = c.at.input;
  key.input_size = c.shape.input_binding_bytes;
  key.output_offset = c.at.output;
  key.output_size = c.shape.output_binding_bytes;
  key.params_offset = c.at.params;
  key.params_size = c.shape.params_binding_bytes;
  key.meter_offset = c.at.meter;
  key.metered = k.metered;
  if (WGPUBindGroup cached = bind_groups_.find(key)) return cached;

  std::vector<gpu::BufferBinding> bindings;
  if (k.declares_input) bindings.push_back({kInputBinding, input, c.at.input, c.shape.input_binding_bytes});
  if (k.declares_output) bindings.push_back({kOutputBinding, output, c.at.output, c.shape.output_binding_bytes});
  if (k.shape.declares_params) bindings.push_back({kParamsBinding, params, c.at.params, c.shape.params_binding_bytes});
  if (k.metered) bindings.push_back({kMeterBinding, meter, c.at.meter, kMeterBufferSize});
  auto group = device_->create_bind_group(k.layout.get(), bindings);
  if (!group) return group.take_error();
  return bind_groups_.insert(key, std::move(group).value());
}

void GpuSession::run_batch(std::span<PreparedCall> calls) {
  auto fail_all = [&](const Error& e) {
    for (PreparedCall& c : calls)
      if (!c.answered) c.finish(e);
  };
  const BatchLayout layout = lay_out(calls, storage_alignment_, uniform_alignment_);

  auto input = buffers_.input.ensure(*device_, layout.input_bytes);
  if (!input) return fail_all(input.error());
  auto output = buffers_.output.ensure(*device_, layout.output_bytes);
  if (!output) return fail_all(output.error());
  auto readback = buffers_.readback.ensure(*device_, layout.readback_bytes);
  if (!readback) return fail_all(readback.error());
  WGPUBuffer params = nullptr, meter = nullptr;
  if (layout.has_params) {
    auto p = buffers_.params.ensure(*device_, layout.params_bytes);
    if (!p) return fail_all(p.error());
    params = *p;
  }
  if (layout.metered) {
    auto m = buffers_.meter.ensure(*device_, layout.meter_bytes);
    if (!m) return fail_all(m.error());
    meter = *m;
  }
  if (buffers_.bound_generation() != bind_groups_generation_) {
    bind_groups_.clear();  // they hold buffers that were just replaced
    bind_groups_generation_ = buffers_.bound_generation();
  }
  bind_groups_.make_room(calls.size());

  std::vector<gpu::Commands::Dispatch> dispatches;
  dispatches.reserve(calls.size());
  for (const PreparedCall& c : calls) {
    auto group = bind_group(c, *input, *output, params, meter);
    if (!group) return fail_all(group.error());
    const auto& w = c.shape.workgroups;
    dispatches.push_back({c.kernel->pipeline.get(), *group, w[0], w[1], w[2]});
  }
  upload(calls, layout, *input, params, meter);

  // One submission: clear the outputs, run every call, copy outputs and meters out for mapping.
  gpu::Commands commands(*device_);
  commands.clear(*output, 0, layout.output_bytes);
  commands.dispatch_all(dispatches);
  commands.copy(*output, 0, *readback, 0, layout.output_bytes);
  if (meter) commands.copy(meter, 0, *readback, layout.readback_meter_base, layout.meter_bytes);
  commands.submit();
  ++counters_.submissions;

  const gpu::PendingMap map = device_->start_map_read(*readback, 0, layout.readback_bytes);
  if (!wait_for(map, calls)) return;
  if (std::string failure = device_->take_failure(); !failure.empty()) {
    device_->unmap(*readback);
    if (device_->lost()) abandoned_ = true;
    return fail_all(make_error(device_->lost() ? ErrorCode::device_lost : ErrorCode::gpu_error, failure));
  }
  const uint8_t* bytes = device_->mapped(*readback, 0, layout.readback_bytes);
  if (!bytes) {
    device_->unmap(*readback);
    return fail_all(make_error(ErrorCode::gpu_error, "the output could not be mapped"));
  }
  deliver(calls, bytes);
  device_->unmap(*readback);
}

bool GpuSession::wait_for(const gpu::PendingMap& map, std::span<PreparedCall> calls) {
  auto spin = spin_;
  for (;;) {
    gpu::Clock::time_point next = gpu::Clock::time_point::max();
    for (const PreparedCall& c : calls)
      if (!c.answered) next = std::min(next, c.call->deadline);
    // Calls queued after this wait began are only seen when it ends: wait in slices.
    if (expire_queued_ && *expire_queued_)
      next = std::min({next, (*expire_queued_)(), gpu::Clock::now() + kQueueCheckInterval});
    auto waited = device_->wait_map(map, next, spin);
    spin = std::chrono::nanoseconds(0);
    if (!waited) {
      if (device_->lost()) abandoned_ = true;
      for (PreparedCall& c : calls)
        if (!c.answered) c.finish(waited.error());
      return false;
    }
    if (*waited) return true;
    if (gpu::Clock::now() < next) continue;
    // The earliest deadline passed: those calls are answered now; the others keep waiting.
    // (Queued calls past theirs are answered at the top of the loop.)
    const auto now = gpu::Clock::now();
    bool any_left = false;
    for (PreparedCall& c : calls) {
      if (c.answered) continue;
      if (c.call->deadline <= now)
        c.finish(make_error(ErrorCode::timeout, "the kernel did not finish before its deadline"));
      else
        any_left = true;
    }
    if (!any_left) {
      // The GPU may still be running this work: nothing more can go to this device.
      abandoned_ = true;
      return false;
    }
  }
}

void GpuSession::deliver(std::span<PreparedCall> calls, const uint8_t* mapped) {
  for (PreparedCall& c : calls) {
    if (c.answered) continue;
    if (c.kernel->metered) {
      uint32_t exceeded = 0;
      std::memcpy(&exceeded, mapped + c.at.readback_meter + 4 * kMeterExceededWord, 4);
      if (exceeded) {
        c.finish(make_error(ErrorCode::budget_exceeded,
                            "the kernel ran past its loop budget of " + std::to_string(c.loop_budget) +
                                " iterations per invocation; its output is discarded"));
        continue;
      }
    }
    const uint8_t* bytes = mapped + c.at.readback_output;
    auto destination = output_destination(c, nullptr);
    if (!destination) {
      c.finish(destination.error());
    } else if (*destination) {
      std::memcpy(*destination, bytes, c.shape.output_bytes);
      c.finish(OutputView(*destination, c.shape.output_bytes));
    } else {
      c.finish(OutputView(bytes, c.shape.output_bytes));
    }
  }
}

void GpuSession::run_staged(PreparedCall& c) {
  const KernelRequest& request = c.call->request;
  const CallShape& s = c.shape;
  const CompiledKernel& k = *c.kernel;
  const auto deadline = c.call->deadline;
  // Errors and deadlines: a deadline passed while the GPU holds this call's work abandons the
  // device, as for any call.
  auto failed = [&](Error e) {
    if (device_->lost()) abandoned_ = true;
    c.finish(std::move(e));
  };
  auto timed_out = [&] {
    abandoned_ = true;
    c.finish(make_error(ErrorCode::timeout, "the call did not finish before its deadline"));
  };

  auto input = buffers_.input.ensure(*device_, s.input_binding_bytes);
  if (!input) return failed(input.take_error());
  auto output = buffers_.output.ensure(*device_, s.output_binding_bytes);
  if (!output) return failed(output.take_error());
  WGPUBuffer params = nullptr, meter = nullptr, readback = nullptr;
  if (s.params_binding_bytes) {
    auto p = buffers_.params.ensure(*device_, s.params_binding_bytes);
    if (!p) return failed(p.take_error());
    params = *p;
  }
  if (k.metered) {
    auto m = buffers_.meter.ensure(*device_, kMeterBufferSize);
    if (!m) return failed(m.take_error());
    meter = *m;
    auto r = buffers_.readback.ensure(*device_, kMeterBufferSize);
    if (!r) return failed(r.take_error());
    readback = *r;
  }
  if (buffers_.bound_generation() != bind_groups_generation_) {
    bind_groups_.clear();
    bind_groups_generation_ = buffers_.bound_generation();
  }
  bind_groups_.make_room(1);
  c.at = Slices{};
  auto group = bind_group(c, *input, *output, params, meter);
  if (!group) return failed(group.take_error());

  if (!staged_)
    staged_ = std::make_unique<StagedTransfer>(std::max<uint64_t>(4, options_.staging_chunk_bytes / 4 * 4),
                                               std::max<size_t>(1, options_.staging_slots),
                                               options_.staging_copy_threads.value_or(ParallelCopy::default_threads()));
  auto uploaded = staged_->upload(*device_, request.input, s.input_binding_bytes, *input, deadline);
  if (!uploaded) return failed(uploaded.take_error());
  if (!*uploaded) return timed_out();
  if (params) {
    staging_.assign(s.params_binding_bytes, 0);
    std::memcpy(staging_.data(), request.params.data(), request.params.size());
    device_->write_buffer(params, 0, staging_.data(), staging_.size());
  }
  if (meter) {
    const uint32_t words[2] = {c.loop_budget, 0};
    device_->write_buffer(meter, 0, words, sizeof words);
  }
  gpu::Commands commands(*device_);
  commands.clear(*output, 0, s.output_binding_bytes);
  commands.dispatch_all({{k.pipeline.get(), *group, s.workgroups[0], s.workgroups[1], s.workgroups[2]}});
  if (meter) commands.copy(meter, 0, readback, 0, kMeterBufferSize);
  commands.submit();
  ++counters_.submissions;

  if (!request.output_into && large_output_capacity_ < s.output_bytes) {
    large_output_.reset(new (std::nothrow) uint8_t[s.output_bytes]);
    large_output_capacity_ = large_output_ ? s.output_bytes : 0;
    if (!large_output_) return failed(make_error(ErrorCode::limit_exceeded, "no host memory for the output"));
  }
  auto destination = output_destination(c, large_output_.get());
  if (!destination) return failed(destination.take_error());
  auto downloaded = staged_->download(*device_, *output, {*destination, s.output_bytes}, deadline);
  if (!downloaded) return failed(downloaded.take_error());
  if (!*downloaded) return timed_out();
  if (std::string failure = device_->take_failure(); !failure.empty())
    return failed(make_error(device_->lost() ? ErrorCode::device_lost : ErrorCode::gpu_error, failure));
  if (meter) {
    auto mapped = device_->map_read(readback, 0, kMeterBufferSize, deadline);
    if (!mapped) return failed(mapped.take_error());
    if (!*mapped) return timed_out();
    uint32_t exceeded = 0;
    std::memcpy(&exceeded, device_->mapped(readback, 0, kMeterBufferSize) + 4 * kMeterExceededWord, 4);
    device_->unmap(readback);
    if (exceeded)
      return failed(make_error(ErrorCode::budget_exceeded,
                               "the kernel ran past its loop budget of " + std::to_string(c.loop_budget) +
                                   " iterations per invocation; its output is discarded"));
  }
  c.finish(OutputView(*destination, s.output_bytes));
}

}  // namespace kem::executor
