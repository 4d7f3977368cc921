// ANS-104 data items, the unit bundlers post inside a layer-1 "bundle" transaction. The
// header is: signature type (u16 LE), signature, owner, target (presence byte + 32),
// anchor (presence byte + 32), tag count (u64 LE), tag byte length (u64 LE), Avro tags; the
// data follows.
#pragma once

#include <cstdint>

#include "avro_tags.h"
#include "bytes.h"
#include "kem/result.h"

namespace kem::store {

struct SignatureScheme {
  uint16_t type;
  const char* name;
  std::size_t signature_size;
  std::size_t owner_size;
  bool verifiable;  // this build checks it; other known types are parsed, then refused
};
// nullptr for a type ANS-104 does not define.
const SignatureScheme* signature_scheme(uint16_t type);

struct DataItemHeader {
  uint16_t signature_type = 0;
  Bytes signature;
  Bytes owner;
  Bytes target;  // empty when absent
  Bytes anchor;  // empty when absent
  uint64_t tag_count = 0;
  Bytes tag_bytes;  // raw Avro, as signed
  Tags tags;
  std::size_t size = 0;  // header bytes; the data starts here
};

// Parses the header at the start of `bytes` (which may continue with the data). Errors:
// verification_failed for an unknown signature type, invalid_argument for malformed bytes.
Result<DataItemHeader> parse_data_item_header(BytesView bytes);

// The 48-byte deep hash the deployed implementations sign: "dataitem", "1", the signature
// type in decimal, owner, target, anchor, the raw tag bytes as one blob, the data.
Bytes data_item_signature_message(const DataItemHeader& header, BytesView data);

// SHA-256(signature) must be expected_id and the signature must verify over the message.
// "unsupported signature type" for types this build cannot check.
Status verify_data_item(const DataItemHeader& header, BytesView data, std::string_view expected_id);

}  // namespace kem::store
