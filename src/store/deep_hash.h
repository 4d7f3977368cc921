// Arweave's deep hash: the SHA-384 structure that layer-1 transactions and ANS-104 data items
// sign. A blob hashes as SHA-384(SHA-384("blob" + len) + SHA-384(bytes)); a list folds its
// items into an accumulator that starts at SHA-384("list" + count). Lengths are decimal text.
#pragma once

#include <vector>

#include "bytes.h"

namespace kem::store {

struct DeepHashItem {
  bool is_list = false;
  Bytes blob;
  std::vector<DeepHashItem> list;

  static DeepHashItem of_blob(BytesView bytes) { return DeepHashItem{false, Bytes(bytes), {}}; }
  static DeepHashItem of_list(std::vector<DeepHashItem> items) { return DeepHashItem{true, {}, std::move(items)}; }
};

// 48 bytes.
Bytes deep_hash(const DeepHashItem& item);

}  // namespace kem::store
