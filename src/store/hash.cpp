#include "hash.h"

#include <openssl/sha.h>

#include "base64url.h"

namespace kem::store {

// The one-shot digests cannot fail for in-memory input (they only fail on allocation inside
// the EVP layer, which these legacy entry points do not use), so they return plain bytes.
Bytes sha256(BytesView bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return Bytes(reinterpret_cast<const char*>(digest), sizeof digest);
}

Bytes sha384(BytesView bytes) {
  unsigned char digest[SHA384_DIGEST_LENGTH];
  SHA384(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return Bytes(reinterpret_cast<const char*>(digest), sizeof digest);
}

Bytes owner_address(BytesView owner) { return base64url_encode(sha256(owner)); }

std::string to_hex(BytesView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

}  // namespace kem::store
