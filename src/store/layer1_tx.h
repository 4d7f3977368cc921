// Layer-1 Arweave transactions, format 2: the JSON header a gateway serves at /tx/<id>, the
// checks that tie it to its ID, and the check that ties data bytes to its data_root.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "bytes.h"
#include "data_root.h"
#include "kem/result.h"

namespace kem::store {

struct Layer1Tx {
  int format = 0;
  std::string id;  // as written in the header; checked, never trusted
  Bytes last_tx;
  Bytes owner;
  std::vector<std::pair<Bytes, Bytes>> tags;  // decoded name, value
  Bytes target;
  std::string quantity;   // winston, decimal text as signed
  std::string reward;
  std::string data_size;  // decimal text as signed
  Bytes data_root;
  Bytes signature;
};

// invalid_argument for malformed JSON or fields; verification_failed for format != 2.
Result<Layer1Tx> parse_layer1_tx(std::string_view json);

// The 48-byte message the owner signed: deep hash of "2", owner, target, quantity, reward,
// last_tx, [[name, value]...], data_size, data_root.
Bytes layer1_signature_message(const Layer1Tx& tx);

// SHA-256(signature) must be expected_id, and the RSA-PSS signature must verify.
Status verify_layer1_header(const Layer1Tx& tx, std::string_view expected_id);

// data_size must be the data's length and data_root the root under either chunking rule;
// returns the rule that matched.
Result<ChunkingRule> verify_layer1_data(const Layer1Tx& tx, BytesView data);

}  // namespace kem::store
