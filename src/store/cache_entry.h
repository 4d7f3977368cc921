// What the caches keep for an ID: the verified source and how it was proven, so a cache hit
// reports the same provenance (and owner, for allow-lists) as the fetch that filled it.
#pragma once

#include <string>

#include "bytes.h"
#include "kem/kernel_store.h"

namespace kem::store {

struct CacheEntry {
  std::string id;
  Bytes source;
  std::string owner_address;
  Verification verification = Verification::unverified;
  std::string gateway;
};

}  // namespace kem::store
