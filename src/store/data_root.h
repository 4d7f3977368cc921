// A transaction's data_root: the root of Arweave's Merkle tree over the data's chunks.
// Leaves are SHA-256(SHA-256(SHA-256(chunk)) + SHA-256(note(end offset))); branches are
// SHA-256(SHA-256(left) + SHA-256(right) + SHA-256(note(left's end offset))); an odd node is
// carried up unchanged. A note is the offset as 32 bytes big-endian.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "bytes.h"

namespace kem::store {

inline constexpr std::size_t kMaxChunkSize = 256 * 1024;
inline constexpr std::size_t kMinChunkSize = 32 * 1024;

// Both rules are on chain, so a verifier must accept either; they differ only when a full
// chunk is followed by a remainder under 32 KiB. Both end in an empty leaf when the size is a
// multiple of 256 KiB (0 bytes included: one empty leaf).
enum class ChunkingRule {
  balanced,  // arweave-js: the last two chunks share such a remainder (ceil half / rest)
  fixed,     // the Erlang node's ar_tx:chunk_binary: 256 KiB chunks, the remainder alone
};
std::string_view to_string(ChunkingRule rule);

// End offsets of the chunks, in order (the last equals the size).
std::vector<std::size_t> chunk_ends(std::size_t size, ChunkingRule rule);

// 32 bytes.
Bytes data_root(BytesView data, ChunkingRule rule);

}  // namespace kem::store
