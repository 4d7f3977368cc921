// An ANS-104 bundle (the data of a bundle transaction): item count (32 bytes LE), then per
// item its size (32 bytes LE) and ID (32 bytes), then the items back to back. The store
// never downloads whole bundles; this locates items for tests and tools.
#pragma once

#include <vector>

#include "bytes.h"
#include "kem/result.h"

namespace kem::store {

struct BundleEntry {
  std::string id;          // base64url, as listed in the bundle's index (a claim, not a proof)
  std::size_t offset = 0;  // where the item starts within the bundle
  std::size_t size = 0;
};

Result<std::vector<BundleEntry>> parse_bundle_index(BytesView bundle);

}  // namespace kem::store
