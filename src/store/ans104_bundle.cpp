#include "ans104_bundle.h"

#include <cstdint>
#include <string>

#include "base64url.h"

namespace kem::store {
namespace {

// 32-byte little-endian integers; anything beyond 64 bits cannot describe real bytes.
bool read_u256(BytesView bytes, std::size_t pos, uint64_t& out) {
  out = 0;
  for (std::size_t i = 0; i < 32; ++i) {
    const uint8_t byte = static_cast<uint8_t>(bytes[pos + i]);
    if (i >= 8 && byte != 0) return false;
    if (i < 8) out |= uint64_t(byte) << (8 * i);
  }
  return true;
}

Error malformed(const std::string& why) { return make_error(ErrorCode::invalid_argument, "malformed ANS-104 bundle: " + why); }

}  // namespace

Result<std::vector<BundleEntry>> parse_bundle_index(BytesView bundle) {
  uint64_t count = 0;
  if (bundle.size() < 32 || !read_u256(bundle, 0, count)) return malformed("bad item count");
  if (count > (bundle.size() - 32) / 64) return malformed("item count larger than the index");
  std::vector<BundleEntry> entries;
  std::size_t offset = 32 + static_cast<std::size_t>(count) * 64;
  for (uint64_t i = 0; i < count; ++i) {
    const std::size_t pos = 32 + static_cast<std::size_t>(i) * 64;
    uint64_t size = 0;
    if (!read_u256(bundle, pos, size) || size > bundle.size() - offset) {
      return malformed("item " + std::to_string(i) + " runs past the end");
    }
    entries.push_back({base64url_encode(bundle.substr(pos + 32, 32)), offset, static_cast<std::size_t>(size)});
    offset += static_cast<std::size_t>(size);
  }
  return entries;
}

}  // namespace kem::store
