// How one group of calls moves its bytes between the host and the GPU: the only part of running
// calls that differs between paths. The call pipeline (call_pipeline.h) does everything else
// (buffers, bind groups, params and meters, the submission, failures, meters, delivery) once
// for every path.
//
// Two strategies: queue_write_strategy.h (wgpuQueueWriteBuffer in, one mapped readback out:
// batches and mid-sized calls) and staged_chunk_strategy.h (KEM's own mapped staging buffers in
// chunks: large calls, one at a time).
#pragma once

#include <functional>
#include <span>

#include "executor/session/batch_layout.h"
#include "executor/session/prepared_call.h"
#include "webgpu/device.h"

namespace kem::executor {

// The buffers one group binds and reads back (the session's arenas, grown to fit the group).
// `params`, `meter` and `readback` are null when the group needs none.
struct Arenas {
  WGPUBuffer input = nullptr, output = nullptr, params = nullptr, meter = nullptr, readback = nullptr;
};

// Waits for a map of the group's work. True once mapped; false when the group is over: every
// call of it was answered (its deadline passed, or the device failed), and the session was
// abandoned where it has to be. Given by the pipeline, which owns the deadlines.
using MapWait = std::function<bool(const gpu::PendingMap&)>;

class TransferStrategy {
 public:
  virtual ~TransferStrategy() = default;

  // Gives every call its slices and returns the sizes of the buffers the group needs
  // (readback_bytes 0: nothing to map after the submission).
  virtual BatchLayout lay_out(std::span<PreparedCall> calls) const = 0;
  // Moves the inputs into `input`, zero-padded to their binding sizes, before the submission.
  // False when `wait` found the group over.
  virtual Result<bool> upload_inputs(std::span<PreparedCall> calls, const BatchLayout& layout, WGPUBuffer input,
                                     const MapWait& wait) = 0;
  // Encodes, after the dispatches, the copies of the outputs into the readback (if any).
  virtual void encode_output_copy(gpu::Commands& commands, const BatchLayout& layout, const Arenas& arenas) = 0;
  // After the submission and before the readback is mapped: brings the outputs to the host
  // where the strategy does not read them from the readback. False when the group is over.
  virtual Result<bool> download_outputs(std::span<PreparedCall> calls, const BatchLayout& layout,
                                        const Arenas& arenas, const MapWait& wait) = 0;
  // Call `c`'s output on the host, valid during its completion (`readback`: the mapped
  // readback, or null when the layout had none).
  virtual Result<OutputView> output_of(const PreparedCall& c, const uint8_t* readback) = 0;
};

}  // namespace kem::executor
