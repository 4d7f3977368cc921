#include "executor/session/staged_chunk_strategy.h"

#include <algorithm>
#include <new>

namespace kem::executor {

StagedTransfer& StagedChunkStrategy::chunk_staging() {
  if (!chunk_staging_)
    chunk_staging_ = std::make_unique<StagedTransfer>(
        std::max<uint64_t>(4, options_.staging_chunk_bytes / 4 * 4), std::max<size_t>(1, options_.staging_slots),
        options_.staging_copy_threads.value_or(ParallelCopy::default_threads()));
  return *chunk_staging_;
}

BatchLayout StagedChunkStrategy::lay_out(std::span<PreparedCall> calls) const {
  BatchLayout layout = executor::lay_out(calls, alignment_);
  // The outputs are downloaded in chunks: the readback holds only the meter.
  layout.readback_meter_base = 0;
  layout.readback_bytes = layout.meter_bytes;
  for (PreparedCall& c : calls) c.at.readback_meter = c.at.meter;
  return layout;
}

Result<bool> StagedChunkStrategy::upload_inputs(std::span<PreparedCall> calls, const BatchLayout&, WGPUBuffer input,
                                                const MapWait& wait) {
  const PreparedCall& c = calls[0];
  return chunk_staging().upload(device_, c.call->request.input, c.shape.input_binding_bytes, input, wait);
}

Result<bool> StagedChunkStrategy::download_outputs(std::span<PreparedCall> calls, const BatchLayout&,
                                                   const Arenas& arenas, const MapWait& wait) {
  const PreparedCall& c = calls[0];
  const uint64_t bytes = c.shape.output_bytes;
  auto memory = caller_output_memory(c);
  if (!memory) return memory.take_error();
  downloaded_to_ = *memory;
  if (!downloaded_to_) {
    if (host_output_capacity_ < bytes) {
      host_output_.reset(new (std::nothrow) uint8_t[bytes]);
      host_output_capacity_ = host_output_ ? bytes : 0;
      if (!host_output_) return make_error(ErrorCode::limit_exceeded, "no host memory for the output");
    }
    downloaded_to_ = host_output_.get();
  }
  return chunk_staging().download(device_, arenas.output, {downloaded_to_, bytes}, wait);
}

Result<OutputView> StagedChunkStrategy::output_of(const PreparedCall& c, const uint8_t*) {
  return OutputView(downloaded_to_, c.shape.output_bytes);
}

}  // namespace kem::executor
