#include "data_root.h"

#include <cstdint>

#include "hash.h"

namespace kem::store {
namespace {

Bytes offset_note(std::size_t offset) {
  Bytes note(32, '\0');
  uint64_t value = offset;
  for (int i = 31; i >= 24; --i) {
    note[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return note;
}

struct Node {
  Bytes id;
  std::size_t end = 0;
};

}  // namespace

std::string_view to_string(ChunkingRule rule) {
  return rule == ChunkingRule::balanced ? "balanced (arweave-js)" : "fixed (arweave node)";
}

std::vector<std::size_t> chunk_ends(std::size_t size, ChunkingRule rule) {
  std::vector<std::size_t> ends;
  std::size_t cursor = 0;
  std::size_t rest = size;
  while (rest >= kMaxChunkSize) {
    std::size_t chunk = kMaxChunkSize;
    const std::size_t next = rest - kMaxChunkSize;
    if (rule == ChunkingRule::balanced && next > 0 && next < kMinChunkSize) chunk = (rest + 1) / 2;
    cursor += chunk;
    rest -= chunk;
    ends.push_back(cursor);
  }
  ends.push_back(cursor + rest);  // possibly an empty final chunk, as both rules produce
  return ends;
}

Bytes data_root(BytesView data, ChunkingRule rule) {
  std::vector<Node> layer;
  std::size_t begin = 0;
  for (std::size_t end : chunk_ends(data.size(), rule)) {
    const Bytes chunk_hash = sha256(data.substr(begin, end - begin));
    layer.push_back({sha256(sha256(chunk_hash) + sha256(offset_note(end))), end});
    begin = end;
  }
  while (layer.size() > 1) {
    std::vector<Node> next;
    for (std::size_t i = 0; i < layer.size(); i += 2) {
      if (i + 1 == layer.size()) {
        next.push_back(std::move(layer[i]));
        continue;
      }
      const Node& left = layer[i];
      const Node& right = layer[i + 1];
      next.push_back({sha256(sha256(left.id) + sha256(right.id) + sha256(offset_note(left.end))), right.end});
    }
    layer = std::move(next);
  }
  return layer.front().id;
}

}  // namespace kem::store
