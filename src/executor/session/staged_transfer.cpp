#include "executor/session/staged_transfer.h"

#include <algorithm>
#include <cstring>

#include "executor/session/huge_pages.h"

namespace kem::executor {

StagedTransfer::StagedTransfer(uint64_t chunk_bytes, size_t slots, size_t copy_threads)
    : chunk_(chunk_bytes), up_(slots), down_(slots), copier_(copy_threads) {}

bool StagedTransfer::ready(Slot& slot, const MapWait& wait) {
  if (!slot.map) return true;
  const bool mapped = wait(*slot.map);
  // Not mapped: the map failed, or it is still pending on a device the session abandons.
  slot.mapped = mapped;
  slot.map.reset();
  return mapped;
}

Result<bool> StagedTransfer::upload(gpu::Device& device, std::span<const uint8_t> input, uint64_t binding_bytes,
                                    WGPUBuffer destination, const MapWait& wait) {
  for (uint64_t offset = 0, k = 0; offset < binding_bytes; offset += chunk_, ++k) {
    Slot& slot = up_[k % up_.size()];
    const uint64_t n = std::min(chunk_, binding_bytes - offset);
    if (!slot.buffer) {
      // Created mapped, so its first use needs no map round trip.
      auto created = device.create_buffer(chunk_, WGPUBufferUsage_MapWrite | WGPUBufferUsage_CopySrc, true);
      if (!created) return created.take_error();
      slot.buffer = std::move(created).value();
      slot.mapped = true;
    } else {
      if (!ready(slot, wait)) return false;
    }
    if (!slot.mapped) return make_error(ErrorCode::gpu_error, "a staging buffer was not mapped");
    uint8_t* host = device.mapped_writable(slot.buffer.get(), 0, chunk_);
    if (!host) return make_error(ErrorCode::gpu_error, "a staging buffer could not be mapped for writing");
    const uint64_t data = offset < input.size() ? std::min<uint64_t>(n, input.size() - offset) : 0;
    copier_.copy(host, input.data() + offset, data);
    std::memset(host + data, 0, n - data);  // the ragged tail of the last word
    device.unmap(slot.buffer.get());
    slot.mapped = false;
    gpu::Commands commands(device);
    commands.copy(slot.buffer.get(), 0, destination, offset, n);
    commands.submit();
    // Mapped again as soon as the copy is done, ready for the next chunk that lands here.
    slot.map = device.start_map_write(slot.buffer.get(), 0, chunk_);
  }
  return true;
}

Result<bool> StagedTransfer::download(gpu::Device& device, WGPUBuffer source, std::span<uint8_t> out,
                                      const MapWait& wait) {
  const uint64_t bytes = (out.size() + 3) / 4 * 4;  // copies move whole words
  advise_huge_pages(out.data(), out.size());  // fresh destinations fault 2 MiB at a time
  const uint64_t chunks = (bytes + chunk_ - 1) / chunk_;
  auto chunk_size = [&](uint64_t k) { return std::min(chunk_, bytes - k * chunk_); };
  auto issue = [&](uint64_t k) -> Status {
    Slot& slot = down_[k % down_.size()];
    if (!slot.buffer) {
      auto created = device.create_buffer(chunk_, WGPUBufferUsage_MapRead | WGPUBufferUsage_CopyDst);
      if (!created) return created.take_error();
      slot.buffer = std::move(created).value();
    }
    gpu::Commands commands(device);
    commands.copy(source, k * chunk_, slot.buffer.get(), 0, chunk_size(k));
    commands.submit();
    slot.map = device.start_map_read(slot.buffer.get(), 0, chunk_size(k));
    return {};
  };
  // A download cut short (an error, a deadline) may have left slots mapped or mapping.
  for (Slot& slot : down_) {
    if (slot.map && !ready(slot, wait)) return false;
    if (slot.mapped) device.unmap(slot.buffer.get()), slot.mapped = false;
  }
  for (uint64_t k = 0; k < std::min<uint64_t>(chunks, down_.size()); ++k)
    if (auto issued = issue(k); !issued) return issued.take_error();
  for (uint64_t k = 0; k < chunks; ++k) {
    Slot& slot = down_[k % down_.size()];
    if (!ready(slot, wait)) return false;
    const uint64_t n = chunk_size(k);
    const uint8_t* host = device.mapped(slot.buffer.get(), 0, n);
    if (!host) return make_error(ErrorCode::gpu_error, "the output could not be mapped");
    const uint64_t offset = k * chunk_;
    copier_.copy(out.data() + offset, host, std::min<uint64_t>(n, out.size() - offset));
    device.unmap(slot.buffer.get());
    slot.mapped = false;
    if (k + down_.size() < chunks)
      if (auto issued = issue(k + down_.size()); !issued) return issued.take_error();
  }
  return true;
}

}  // namespace kem::executor
