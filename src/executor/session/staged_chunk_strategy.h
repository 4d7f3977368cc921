// The transfer of large calls (one at a time): input and output move through KEM's own mapped
// staging buffers in chunks (staged_transfer.h), overlapped with the GPU's copies; only the
// meter goes through the readback.
#pragma once

#include <cstdint>
#include <memory>

#include "executor/session/staged_transfer.h"
#include "executor/session/transfer_strategy.h"
#include "kem/executor_options.h"

namespace kem::executor {

class StagedChunkStrategy final : public TransferStrategy {
 public:
  StagedChunkStrategy(gpu::Device& device, const ExecutorOptions& options, BindingAlignment alignment)
      : device_(device), options_(options), alignment_(alignment) {}

  // One call per group.
  BatchLayout lay_out(std::span<PreparedCall> calls) const override;
  Result<bool> upload_inputs(std::span<PreparedCall> calls, const BatchLayout& layout, WGPUBuffer input,
                             const MapWait& wait) override;
  void encode_output_copy(gpu::Commands&, const BatchLayout&, const Arenas&) override {}  // downloaded instead
  Result<bool> download_outputs(std::span<PreparedCall> calls, const BatchLayout& layout, const Arenas& arenas,
                                const MapWait& wait) override;
  Result<OutputView> output_of(const PreparedCall& c, const uint8_t* readback) override;

 private:
  StagedTransfer& chunk_staging();

  gpu::Device& device_;
  const ExecutorOptions& options_;
  BindingAlignment alignment_;
  std::unique_ptr<StagedTransfer> chunk_staging_;  // made on the first large call
  std::unique_ptr<uint8_t[]> host_output_;         // the output when the caller gave no memory
  uint64_t host_output_capacity_ = 0;
  uint8_t* downloaded_to_ = nullptr;               // where the current call's output went
};

}  // namespace kem::executor
