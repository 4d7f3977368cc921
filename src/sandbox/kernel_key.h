// The key of a kernel's verdict: SHA-256 over everything that decides what is compiled (the
// source, the entry point, whether it is metered, the override values). A cryptographic hash,
// because the key is what lets a kernel skip the sandbox: a kernel crafted to collide with an
// admitted one's key would reach the devices unchecked.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>

#include "kem/kernel_request.h"

namespace kem::sandbox {

using KernelKey = std::array<uint8_t, 32>;

// `metered`: the executor's metering and not request.unmetered (what is compiled).
KernelKey kernel_key(const KernelRequest& request, bool metered);

struct KernelKeyHash {
  size_t operator()(const KernelKey& k) const {
    size_t h;
    std::memcpy(&h, k.data(), sizeof h);
    return h;
  }
};

}  // namespace kem::sandbox
