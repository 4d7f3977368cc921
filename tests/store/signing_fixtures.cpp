#include "signing_fixtures.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unistd.h>

#include "ans104.h"
#include "base64url.h"
#include "hash.h"
#include "layer1_tx.h"

namespace kem::store::testing {
namespace {

const unsigned char* u8(BytesView bytes) { return reinterpret_cast<const unsigned char*>(bytes.data()); }

// Test set-up failures are bugs in the tests: they stop the test process loudly.
void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("fixture set-up failed: ") + what);
}

EVP_PKEY* generate(const char* algorithm, unsigned bits) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, algorithm, nullptr);
  require(ctx && EVP_PKEY_keygen_init(ctx) > 0, "keygen init");
  if (bits) require(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, static_cast<int>(bits)) > 0, "key bits");
  EVP_PKEY* key = nullptr;
  require(EVP_PKEY_generate(ctx, &key) > 0, "keygen");
  EVP_PKEY_CTX_free(ctx);
  return key;
}

// Under ctest every test is its own process, and RSA-4096 generation takes seconds. The
// suite's set-up test empties KEM_STORE_TEST_KEYS at the start of each ctest run; the first
// process that needs a key generates it and leaves it there for the rest of that run. Without
// the variable (running the binary by hand) each process generates its own.
EVP_PKEY* fresh_key(const char* name, const char* algorithm, unsigned bits) {
  const char* dir = std::getenv("KEM_STORE_TEST_KEYS");
  const std::string path = dir && *dir ? std::string(dir) + "/" + name + ".pem" : std::string();
  if (!path.empty()) {
    if (FILE* file = std::fopen(path.c_str(), "r")) {
      EVP_PKEY* key = PEM_read_PrivateKey(file, nullptr, nullptr, nullptr);
      std::fclose(file);
      if (key) return key;
    }
  }
  EVP_PKEY* key = generate(algorithm, bits);
  if (!path.empty()) {
    std::error_code ignored;
    std::filesystem::create_directories(dir, ignored);
    const std::string temp = path + ".tmp" + std::to_string(::getpid());
    if (FILE* file = std::fopen(temp.c_str(), "w")) {
      const bool written = PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
      std::fclose(file);
      if (written) std::filesystem::rename(temp, path, ignored);  // atomic: readers see all or nothing
      std::filesystem::remove(temp, ignored);
    }
  }
  return key;
}

void put_u256(Bytes& out, uint64_t value) {
  for (int i = 0; i < 32; ++i) {
    out += static_cast<char>(i < 8 ? (value >> (8 * i)) & 0xff : 0);
  }
}

void put_u64(Bytes& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

}  // namespace

SigningKey::SigningKey(EVP_PKEY* key, bool rsa) : key_(key), rsa_(rsa) {
  if (rsa) {
    BIGNUM* n = nullptr;
    require(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) > 0, "modulus");
    owner_.resize(512);
    require(BN_bn2binpad(n, reinterpret_cast<unsigned char*>(owner_.data()), 512) == 512, "modulus size");
    BN_free(n);
  } else {
    std::size_t size = 32;
    owner_.resize(size);
    require(EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(owner_.data()), &size) > 0, "ed25519 key");
  }
}

SigningKey::~SigningKey() { EVP_PKEY_free(key_); }

const SigningKey& SigningKey::rsa4096() {
  static const SigningKey key(fresh_key("rsa4096", "RSA", 4096), true);
  return key;
}

const SigningKey& SigningKey::rsa4096_other() {
  static const SigningKey key(fresh_key("rsa4096_other", "RSA", 4096), true);
  return key;
}

const SigningKey& SigningKey::ed25519() {
  static const SigningKey key(fresh_key("ed25519", "ED25519", 0), false);
  return key;
}

Bytes SigningKey::sign(BytesView message, int rsa_salt_length) const {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  require(md && EVP_DigestSignInit(md, &pctx, rsa_ ? EVP_sha256() : nullptr, nullptr, key_) > 0, "sign init");
  if (rsa_) {
    require(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
                EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) > 0 &&
                EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, rsa_salt_length < 0 ? RSA_PSS_SALTLEN_MAX : rsa_salt_length) > 0,
            "pss parameters");
  }
  std::size_t size = 0;
  require(EVP_DigestSign(md, nullptr, &size, u8(message), message.size()) > 0, "signature size");
  Bytes signature(size, '\0');
  require(EVP_DigestSign(md, reinterpret_cast<unsigned char*>(signature.data()), &size, u8(message), message.size()) > 0,
          "sign");
  signature.resize(size);
  EVP_MD_CTX_free(md);
  return signature;
}

Layer1Fixture make_layer1_tx(const SigningKey& key, const Layer1Spec& spec) {
  Layer1Tx tx;
  tx.format = 2;
  tx.owner = key.owner();
  tx.last_tx = sha384("anchor for " + spec.data.substr(0, 16));  // 48 bytes, like a block hash
  tx.tags.assign(spec.tags.begin(), spec.tags.end());
  tx.quantity = "0";
  tx.reward = "123456789";
  tx.data_size = std::to_string(spec.data.size());
  tx.data_root = data_root(spec.data, spec.rule);
  tx.signature = key.sign(layer1_signature_message(tx), spec.salt_length);
  const std::string id = base64url_encode(sha256(tx.signature));

  nlohmann::json tags = nlohmann::json::array();
  for (const auto& [name, value] : tx.tags) tags.push_back({{"name", base64url_encode(name)}, {"value", base64url_encode(value)}});
  nlohmann::json header = {
      {"format", 2},          {"id", id},
      {"last_tx", base64url_encode(tx.last_tx)},
      {"owner", base64url_encode(tx.owner)},
      {"tags", tags},         {"target", ""},
      {"quantity", tx.quantity}, {"data", ""},
      {"data_size", tx.data_size}, {"data_tree", nlohmann::json::array()},
      {"data_root", base64url_encode(tx.data_root)},
      {"reward", tx.reward},  {"signature", base64url_encode(tx.signature)},
  };
  return {id, header.dump(), spec.data};
}

DataItemFixture make_data_item(const SigningKey& key, const DataItemSpec& spec) {
  DataItemHeader header;
  header.signature_type = key.is_rsa() ? 1 : 2;
  header.owner = key.owner();
  header.target = spec.target;
  header.anchor = spec.anchor;
  header.tag_count = spec.tags.size();
  header.tag_bytes = encode_avro_tags(spec.tags);
  header.signature = key.sign(data_item_signature_message(header, spec.data), 0);

  Bytes bytes;
  bytes += static_cast<char>(header.signature_type & 0xff);
  bytes += static_cast<char>(header.signature_type >> 8);
  bytes += header.signature;
  bytes += header.owner;
  bytes += static_cast<char>(header.target.empty() ? 0 : 1);
  bytes += header.target;
  bytes += static_cast<char>(header.anchor.empty() ? 0 : 1);
  bytes += header.anchor;
  put_u64(bytes, header.tag_count);
  put_u64(bytes, header.tag_bytes.size());
  bytes += header.tag_bytes;
  const std::size_t header_size = bytes.size();
  bytes += spec.data;
  return {base64url_encode(sha256(header.signature)), bytes, header_size};
}

BundleFixture make_bundle(const std::vector<DataItemFixture>& items) {
  BundleFixture bundle;
  put_u256(bundle.bytes, items.size());
  for (const DataItemFixture& item : items) {
    put_u256(bundle.bytes, item.bytes.size());
    bundle.bytes += base64url_decode(item.id).value();
  }
  for (const DataItemFixture& item : items) {
    bundle.item_offsets.push_back(bundle.bytes.size());
    bundle.bytes += item.bytes;
  }
  return bundle;
}

Bytes read_vector(const std::string& name) {
  const std::string path = std::string(KEM_ARWEAVE_TESTDATA) + "/" + name;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing real vector " << path << " (../shared/testdata/arweave must exist)";
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace kem::store::testing
