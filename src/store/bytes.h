// The store handles raw bytes (keys, signatures, bodies) as std::string: binary-safe, and the
// same type libcurl bodies and WGSL sources already use, so no copies between representations.
#pragma once

#include <string>
#include <string_view>

namespace kem::store {

using Bytes = std::string;
using BytesView = std::string_view;

}  // namespace kem::store
