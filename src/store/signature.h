// Signature checks for the two key types Arweave kernels are signed with.
#pragma once

#include "bytes.h"
#include "kem/result.h"

namespace kem::store {

// RSA-PSS with SHA-256 and MGF1-SHA-256, public exponent 65537, modulus = the owner bytes
// (big-endian). Any salt length is accepted: real signatures use 0, 32 and the maximum.
// verification_failed when the signature does not verify.
Status verify_rsa_pss(BytesView modulus, BytesView message, BytesView signature);

// Ed25519 (RFC 8032) over the message itself; public key 32 bytes, signature 64 bytes.
Status verify_ed25519(BytesView public_key, BytesView message, BytesView signature);

}  // namespace kem::store
