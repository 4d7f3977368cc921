// base64url without padding (RFC 4648 §5), the encoding of every binary field on Arweave.
#pragma once

#include "bytes.h"
#include "kem/result.h"

namespace kem::store {

Bytes base64url_encode(BytesView bytes);

// Strict: only the base64url alphabet, no padding, no whitespace. Trailing bits that do not
// fit a whole byte are ignored, as every Arweave implementation does.
Result<Bytes> base64url_decode(std::string_view text);

}  // namespace kem::store
