// ANS-104 tags: an Avro array of {name: bytes, value: bytes} records. Decoded only to check
// that the header's tag count and tag byte length are consistent; the signature covers the
// raw bytes, never a re-encoding.
#pragma once

#include <utility>
#include <vector>

#include "bytes.h"
#include "kem/result.h"

namespace kem::store {

using Tags = std::vector<std::pair<Bytes, Bytes>>;

// invalid_argument when the bytes are not exactly one well-formed array.
Result<Tags> decode_avro_tags(BytesView bytes);

// The canonical encoding (one block, then the 0 terminator), as ANS-104 writers produce.
Bytes encode_avro_tags(const Tags& tags);

}  // namespace kem::store
