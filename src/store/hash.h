// SHA-256 and SHA-384 (OpenSSL) over byte strings: IDs, addresses, Merkle nodes, deep hashes.
#pragma once

#include "bytes.h"

namespace kem::store {

Bytes sha256(BytesView bytes);
Bytes sha384(BytesView bytes);

// An Arweave address: base64url(SHA-256(owner public key bytes)).
Bytes owner_address(BytesView owner);

// Lower-case hex, for cache metadata and messages.
std::string to_hex(BytesView bytes);

}  // namespace kem::store
