// The transfer of small calls, batches and mid-sized calls: inputs go through
// wgpuQueueWriteBuffer (which copies them before it returns), outputs come back in one mapped
// readback together with the meters.
#pragma once

#include <cstdint>
#include <vector>

#include "executor/session/transfer_strategy.h"

namespace kem::executor {

class QueueWriteStrategy final : public TransferStrategy {
 public:
  QueueWriteStrategy(gpu::Device& device, BindingAlignment alignment) : device_(device), alignment_(alignment) {}

  BatchLayout lay_out(std::span<PreparedCall> calls) const override;
  Result<bool> upload_inputs(std::span<PreparedCall> calls, const BatchLayout& layout, WGPUBuffer input,
                             const MapWait& wait) override;
  void encode_output_copy(gpu::Commands& commands, const BatchLayout& layout, const Arenas& arenas) override;
  Result<bool> download_outputs(std::span<PreparedCall>, const BatchLayout&, const Arenas&, const MapWait&) override {
    return true;  // the outputs are read from the readback
  }
  Result<OutputView> output_of(const PreparedCall& c, const uint8_t* readback) override;

 private:
  gpu::Device& device_;
  BindingAlignment alignment_;
  std::vector<uint8_t> packed_inputs_;  // host image of a batch's inputs, packed at their slices; reused
};

}  // namespace kem::executor
