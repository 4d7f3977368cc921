#include "executor/session/call_pipeline.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "wgsl/metering.h"

namespace kem::executor {
namespace {
// While a submission runs, the driving thread looks at the queue this often for calls whose
// deadline passed (a blocking wait cannot be woken by a new call).
constexpr auto kQueueCheckInterval = std::chrono::milliseconds(20);
}  // namespace

void CallPipeline::run(std::span<PreparedCall> calls, TransferStrategy& transfer, const QueueExpiry& expire_queued) {
  // The strategies' waits (staging chunks) block at once, as they always did: polling pays off
  // only for the one short wait of a small call's readback.
  // (Two pointers captured: small enough for std::function to keep without allocating.)
  struct Group {
    std::span<PreparedCall> calls;
    const QueueExpiry& expire_queued;
  } group{calls, expire_queued};
  const MapWait wait = [this, &group](const gpu::PendingMap& map) {
    return wait_for(map, group.calls, group.expire_queued, std::chrono::nanoseconds(0));
  };
  // While the group runs, callers estimating their wait count what it has done as done.
  const auto started = gpu::Clock::now();
  struct Running {
    DeviceLoad& load;
    ~Running() { load.group_started_ns = 0; }
  } running{counters_.load};
  int64_t group_estimate = 0;
  for (const PreparedCall& c : calls) group_estimate += c.estimate.count();
  counters_.load.group_estimate_ns = group_estimate;
  counters_.load.group_started_ns =
      std::max<int64_t>(1, std::chrono::duration_cast<Duration>(started.time_since_epoch()).count());
  const BatchLayout layout = transfer.lay_out(calls);
  auto arenas = arenas_for(layout);
  if (!arenas) return fail_unanswered(calls, arenas.error());
  if (auto bound = bind(calls, *arenas); !bound) return fail_unanswered(calls, bound.error());

  auto uploaded = transfer.upload_inputs(calls, layout, arenas->input, wait);
  if (!uploaded) return fail_unanswered(calls, uploaded.error());
  if (!*uploaded) return;
  write_params_and_meters(calls, layout, *arenas);

  // One submission: clear the outputs, run every call, copy outputs and meters out for mapping.
  gpu::Commands commands(device_);
  commands.clear(arenas->output, 0, layout.output_bytes);
  commands.dispatch_all(dispatches_);
  transfer.encode_output_copy(commands, layout, *arenas);
  if (arenas->meter) commands.copy(arenas->meter, 0, arenas->readback, layout.readback_meter_base, layout.meter_bytes);
  commands.submit();
  ++counters_.submissions;

  auto downloaded = transfer.download_outputs(calls, layout, *arenas, wait);
  if (!downloaded) return fail_unanswered(calls, downloaded.error());
  if (!*downloaded) return;
  if (layout.readback_bytes &&
      !wait_for(device_.start_map_read(arenas->readback, 0, layout.readback_bytes), calls, expire_queued, spin_))
    return;
  struct Unmap {  // whatever happens below, the readback is unmapped once the group is answered
    gpu::Device& device;
    WGPUBuffer buffer;
    ~Unmap() {
      if (buffer) device.unmap(buffer);
    }
  } unmap{device_, layout.readback_bytes ? arenas->readback : nullptr};

  if (std::string failure = device_.take_failure(); !failure.empty())
    return fail_unanswered(calls, make_error(device_.lost() ? ErrorCode::device_lost : ErrorCode::gpu_error, failure));
  const uint8_t* readback = nullptr;
  if (layout.readback_bytes) {
    readback = device_.mapped(arenas->readback, 0, layout.readback_bytes);
    if (!readback) return fail_unanswered(calls, make_error(ErrorCode::gpu_error, "the output could not be mapped"));
  }
  measure(calls, gpu::Clock::now() - started);
  deliver(calls, transfer, readback);
}

void CallPipeline::measure(std::span<PreparedCall> calls, Duration took) {
  // Only a group of one kernel whose every call ran to the end tells what one call costs: a
  // mixed group's time cannot be split among its kernels, and a call answered early did not
  // wait for it.
  if (calls.empty() || calls[0].call->kernel_key == 0) return;
  for (const PreparedCall& c : calls)
    if (c.answered || c.call->kernel_key != calls[0].call->kernel_key) return;
  counters_.load.times.record(calls[0].call->kernel_key, took / static_cast<int64_t>(calls.size()));
}

void CallPipeline::fail_unanswered(std::span<PreparedCall> calls, const Error& error) {
  if (device_.lost()) abandoned_ = true;
  for (PreparedCall& c : calls)
    if (!c.answered) c.finish(error);
}

Result<Arenas> CallPipeline::arenas_for(const BatchLayout& layout) {
  Arenas a;
  struct Need {
    ReusableBuffer& buffer;
    uint64_t bytes;  // 0: the group needs none (inputs and outputs are never empty)
    WGPUBuffer& into;
  };
  const Need needs[] = {{buffers_.input, layout.input_bytes, a.input},
                        {buffers_.output, layout.output_bytes, a.output},
                        {buffers_.readback, layout.readback_bytes, a.readback},
                        {buffers_.params, layout.has_params ? layout.params_bytes : 0, a.params},
                        {buffers_.meter, layout.metered ? layout.meter_bytes : 0, a.meter}};
  for (const Need& need : needs) {
    if (need.bytes == 0) continue;
    auto buffer = need.buffer.ensure(device_, need.bytes);
    if (!buffer) return buffer.take_error();
    need.into = *buffer;
  }
  return a;
}

Status CallPipeline::bind(std::span<PreparedCall> calls, const Arenas& arenas) {
  if (buffers_.bound_generation() != bind_groups_generation_) {
    bind_groups_.clear();  // they hold buffers that were just replaced
    bind_groups_generation_ = buffers_.bound_generation();
  }
  bind_groups_.make_room(calls.size());
  dispatches_.clear();
  for (const PreparedCall& c : calls) {
    auto group = bind_group(c, arenas);
    if (!group) return group.take_error();
    const auto& w = c.shape.workgroups;
    dispatches_.push_back({c.kernel->pipeline.get(), *group, w[0], w[1], w[2]});
  }
  return {};
}

Result<WGPUBindGroup> CallPipeline::bind_group(const PreparedCall& c, const Arenas& a) {
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
  if (k.declares_input) bindings.push_back({kInputBinding, a.input, c.at.input, c.shape.input_binding_bytes});
  if (k.declares_output) bindings.push_back({kOutputBinding, a.output, c.at.output, c.shape.output_binding_bytes});
  if (k.shape.declares_params)
    bindings.push_back({kParamsBinding, a.params, c.at.params, c.shape.params_binding_bytes});
  if (k.metered) bindings.push_back({kMeterBinding, a.meter, c.at.meter, kMeterBufferSize});
  auto group = device_.create_bind_group(k.layout.get(), bindings);
  if (!group) return group.take_error();
  return bind_groups_.insert(key, std::move(group).value());
}

void CallPipeline::write_params_and_meters(std::span<PreparedCall> calls, const BatchLayout& layout,
                                           const Arenas& arenas) {
  // WriteBuffer copies the host bytes before it returns, so one image serves both uploads.
  auto& image = params_and_meters_image_;
  if (layout.has_params) {
    image.assign(layout.params_bytes, 0);
    for (const PreparedCall& c : calls) {
      const auto& p = c.call->request.params;
      if (c.shape.params_binding_bytes && !p.empty()) std::memcpy(image.data() + c.at.params, p.data(), p.size());
    }
    device_.write_buffer(arenas.params, 0, image.data(), layout.params_bytes);
  }
  if (layout.metered) {
    image.assign(layout.meter_bytes, 0);
    for (const PreparedCall& c : calls) {
      if (!c.kernel->metered) continue;
      const uint32_t words[2] = {c.loop_budget, 0};
      std::memcpy(image.data() + c.at.meter, words, sizeof words);
    }
    device_.write_buffer(arenas.meter, 0, image.data(), layout.meter_bytes);
  }
}

bool CallPipeline::wait_for(const gpu::PendingMap& map, std::span<PreparedCall> calls,
                            const QueueExpiry& expire_queued, std::chrono::nanoseconds spin) {
  for (;;) {
    gpu::Clock::time_point next = gpu::Clock::time_point::max();
    for (const PreparedCall& c : calls)
      if (!c.answered) next = std::min(next, c.call->deadline);
    // Calls queued after this wait began are only seen when it ends: wait in slices.
    if (expire_queued) next = std::min({next, expire_queued(), gpu::Clock::now() + kQueueCheckInterval});
    auto waited = device_.wait_map(map, next, spin);
    spin = std::chrono::nanoseconds(0);
    if (!waited) {
      fail_unanswered(calls, waited.error());
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
        c.finish(c.call->deadline_error("the call did not finish before its deadline"));
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

void CallPipeline::deliver(std::span<PreparedCall> calls, TransferStrategy& transfer, const uint8_t* readback) {
  for (PreparedCall& c : calls) {
    if (c.answered) continue;
    if (c.kernel->metered) {
      uint32_t exceeded = 0;
      std::memcpy(&exceeded, readback + c.at.readback_meter + 4 * kMeterExceededWord, 4);
      if (exceeded) {
        c.finish(make_error(ErrorCode::budget_exceeded,
                            "the kernel ran past its loop budget of " + std::to_string(c.loop_budget) +
                                " iterations per invocation; its output is discarded"));
        continue;
      }
    }
    c.finish(transfer.output_of(c, readback));
  }
}

}  // namespace kem::executor
