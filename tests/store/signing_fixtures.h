// Fixtures the tests generate: fresh keys, signed layer-1 transactions, signed ANS-104 data
// items and bundles. Signing goes through OpenSSL directly; the message layouts come from the
// store's own functions, which the real vectors in ../shared/testdata/arweave pin down.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "avro_tags.h"
#include "bytes.h"
#include "data_root.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace kem::store::testing {

class SigningKey {
 public:
  // Generated once per test process: RSA-4096 takes a noticeable moment.
  static const SigningKey& rsa4096();
  static const SigningKey& rsa4096_other();
  static const SigningKey& ed25519();

  ~SigningKey();
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;

  bool is_rsa() const { return rsa_; }
  // The owner field: the RSA modulus (512 bytes) or the ed25519 public key (32 bytes).
  const Bytes& owner() const { return owner_; }
  // RSA-PSS SHA-256 with the given salt length (-1: the maximum), or ed25519.
  Bytes sign(BytesView message, int rsa_salt_length = 0) const;

 private:
  SigningKey(EVP_PKEY* key, bool rsa);
  EVP_PKEY* key_;
  bool rsa_;
  Bytes owner_;
};

struct Layer1Fixture {
  std::string id;
  std::string header_json;  // what /tx/<id> serves
  Bytes data = {};
};

struct Layer1Spec {
  Bytes data = {};
  Tags tags = {{"Content-Type", "text/plain"}};
  ChunkingRule rule = ChunkingRule::balanced;
  int salt_length = 32;
};

Layer1Fixture make_layer1_tx(const SigningKey& key, const Layer1Spec& spec);

struct DataItemFixture {
  std::string id;
  Bytes bytes;  // header + data
  std::size_t header_size = 0;
};

struct DataItemSpec {
  Bytes data = {};
  Tags tags = {{"Content-Type", "text/plain"}};
  Bytes target = {};  // empty or 32 bytes
  Bytes anchor = {};  // empty or 32 bytes
};

DataItemFixture make_data_item(const SigningKey& key, const DataItemSpec& spec);

// The bundle bytes and, for each item, where it starts inside them.
struct BundleFixture {
  Bytes bytes;
  std::vector<std::size_t> item_offsets;
};
BundleFixture make_bundle(const std::vector<DataItemFixture>& items);

// Reads a file of ../shared/testdata/arweave; fails the calling test when it is missing.
Bytes read_vector(const std::string& name);

}  // namespace kem::store::testing
