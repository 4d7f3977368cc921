#include "executor/session/queue_write_strategy.h"

#include <cstring>

namespace kem::executor {

BatchLayout QueueWriteStrategy::lay_out(std::span<PreparedCall> calls) const { return executor::lay_out(calls, alignment_); }

Result<bool> QueueWriteStrategy::upload_inputs(std::span<PreparedCall> calls, const BatchLayout& layout,
                                               WGPUBuffer input, const MapWait&) {
  // WriteBuffer takes whole 4-byte words, so each input's ragged tail goes padded with zeros:
  // every byte of a bound range belongs to its call.
  if (calls.size() == 1) {
    // One call: straight from the caller's memory, no packing copy. Its slice starts at 0 and
    // its binding is its input rounded up to a word.
    const PreparedCall& c = calls[0];
    const uint8_t* bytes = c.call->request.input.data();
    const uint64_t body = c.shape.input_bytes / 4 * 4;
    if (body) device_.write_buffer(input, 0, bytes, body);
    if (body < c.shape.input_binding_bytes) {
      uint8_t tail[4] = {0, 0, 0, 0};
      std::memcpy(tail, bytes + body, c.shape.input_bytes - body);
      device_.write_buffer(input, body, tail, 4);
    }
    return true;
  }
  packed_inputs_.resize(layout.input_bytes);
  uint64_t end = 0;
  for (const PreparedCall& c : calls) {
    const auto& bytes = c.call->request.input;
    std::memset(packed_inputs_.data() + end, 0, c.at.input - end);  // the gap before this slice
    std::memcpy(packed_inputs_.data() + c.at.input, bytes.data(), bytes.size());
    end = c.at.input + c.shape.input_binding_bytes;
    std::memset(packed_inputs_.data() + c.at.input + bytes.size(), 0, end - c.at.input - bytes.size());
  }
  device_.write_buffer(input, 0, packed_inputs_.data(), layout.input_bytes);
  return true;
}

void QueueWriteStrategy::encode_output_copy(gpu::Commands& commands, const BatchLayout& layout,
                                            const Arenas& arenas) {
  commands.copy(arenas.output, 0, arenas.readback, 0, layout.output_bytes);
}

Result<OutputView> QueueWriteStrategy::output_of(const PreparedCall& c, const uint8_t* readback) {
  const uint8_t* bytes = readback + c.at.readback_output;
  auto memory = caller_output_memory(c);
  if (!memory) return memory.take_error();
  if (!*memory) return OutputView(bytes, c.shape.output_bytes);  // the caller reads the mapping itself
  std::memcpy(*memory, bytes, c.shape.output_bytes);
  return OutputView(*memory, c.shape.output_bytes);
}

}  // namespace kem::executor
