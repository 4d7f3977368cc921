// Deep hash and data_root against independent computations (OpenSSL directly) and the real
// arweave-js vectors.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "base64url.h"
#include "data_root.h"
#include "deep_hash.h"
#include "signing_fixtures.h"

namespace kem::store {
namespace {

// The reference digest goes through EVP, not the store's wrappers.
Bytes evp_digest(const EVP_MD* md, const Bytes& bytes) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EXPECT_EQ(EVP_Digest(bytes.data(), bytes.size(), out, &size, md, nullptr), 1);
  return Bytes(reinterpret_cast<char*>(out), size);
}
Bytes ref384(const Bytes& b) { return evp_digest(EVP_sha384(), b); }
Bytes ref256(const Bytes& b) { return evp_digest(EVP_sha256(), b); }

TEST(DeepHash, BlobIsTaggedWithItsLength) {
  EXPECT_EQ(deep_hash(DeepHashItem::of_blob("abc")), ref384(ref384("blob3") + ref384("abc")));
}

TEST(DeepHash, ListFoldsItsItemsIntoAnAccumulator) {
  const Bytes a = ref384(ref384("blob1") + ref384("a"));
  const Bytes empty = ref384(ref384("blob0") + ref384(""));
  const Bytes expected = ref384(ref384(ref384("list2") + a) + empty);
  EXPECT_EQ(deep_hash(DeepHashItem::of_list({DeepHashItem::of_blob("a"), DeepHashItem::of_blob("")})), expected);
  EXPECT_EQ(deep_hash(DeepHashItem::of_list({})), ref384("list0"));
}

Bytes note(std::size_t offset) {
  Bytes n(32, '\0');
  for (int i = 0; i < 8; ++i) n[31 - i] = static_cast<char>((offset >> (8 * i)) & 0xff);
  return n;
}

TEST(DataRoot, ASingleChunkIsOneLeaf) {
  const Bytes data = "fn main() {}";
  const Bytes leaf = ref256(ref256(ref256(data)) + ref256(note(data.size())));
  EXPECT_EQ(data_root(data, ChunkingRule::balanced), leaf);
  EXPECT_EQ(data_root(data, ChunkingRule::fixed), leaf);
}

TEST(DataRoot, ZeroBytesIsOneEmptyLeaf) {
  EXPECT_EQ(chunk_ends(0, ChunkingRule::balanced), std::vector<std::size_t>{0});
  EXPECT_EQ(data_root("", ChunkingRule::fixed), ref256(ref256(ref256("")) + ref256(note(0))));
}

TEST(DataRoot, ExactMultipleEndsInAnEmptyLeaf) {
  const Bytes data(kMaxChunkSize, 'k');
  EXPECT_EQ(chunk_ends(data.size(), ChunkingRule::balanced), (std::vector<std::size_t>{262144, 262144}));
  const Bytes full = ref256(ref256(ref256(data)) + ref256(note(262144)));
  const Bytes empty = ref256(ref256(ref256("")) + ref256(note(262144)));
  const Bytes root = ref256(ref256(full) + ref256(empty) + ref256(note(262144)));
  EXPECT_EQ(data_root(data, ChunkingRule::balanced), root);
  EXPECT_EQ(data_root(data, ChunkingRule::fixed), root);
}

TEST(DataRoot, ChunkingRulesDisagreeOnASmallRemainder) {
  const std::size_t size = kMaxChunkSize + 1000;
  EXPECT_EQ(chunk_ends(size, ChunkingRule::balanced), (std::vector<std::size_t>{131572, 263144}));
  EXPECT_EQ(chunk_ends(size, ChunkingRule::fixed), (std::vector<std::size_t>{262144, 263144}));
  const Bytes data(size, 'x');
  EXPECT_NE(data_root(data, ChunkingRule::balanced), data_root(data, ChunkingRule::fixed));
  // A large remainder is not rebalanced by either rule.
  EXPECT_EQ(chunk_ends(kMaxChunkSize + 40000, ChunkingRule::balanced), (std::vector<std::size_t>{262144, 302144}));
}

TEST(DataRoot, OddNodeIsCarriedUp) {
  const std::size_t size = 2 * kMaxChunkSize + 100000;
  Bytes data(size, '\0');
  for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>(i * 7);
  Bytes leaves[3];
  std::size_t ends[3] = {262144, 524288, size};
  std::size_t begin = 0;
  for (int i = 0; i < 3; ++i) {
    leaves[i] = ref256(ref256(ref256(data.substr(begin, ends[i] - begin))) + ref256(note(ends[i])));
    begin = ends[i];
  }
  const Bytes left = ref256(ref256(leaves[0]) + ref256(leaves[1]) + ref256(note(ends[0])));
  const Bytes root = ref256(ref256(left) + ref256(leaves[2]) + ref256(note(ends[1])));
  EXPECT_EQ(data_root(data, ChunkingRule::balanced), root);
}

TEST(DataRoot, ArweaveJsRebar3Vector) {
  const Bytes data = testing::read_vector("arweave-js_rebar3.bin");
  ASSERT_EQ(data.size(), 836907u);
  EXPECT_EQ(base64url_encode(data_root(data, ChunkingRule::balanced)), "t-GCOnjPWxdox950JsrFMu3nzOE4RktXpMcIlkqSUTw");
}

TEST(DataRoot, ArweaveJsTransactionVectorEndsInAnEmptyLeaf) {
  const auto unsigned_tx = nlohmann::json::parse(testing::read_vector("arweave-js_unsigned_v2_tx.json"));
  const Bytes data = base64url_decode(unsigned_tx["data"].get<std::string>()).value();
  ASSERT_EQ(data.size(), 11 * kMaxChunkSize);
  EXPECT_EQ(chunk_ends(data.size(), ChunkingRule::fixed).size(), 12u);
  EXPECT_EQ(base64url_encode(data_root(data, ChunkingRule::balanced)), "3mSWTJfNIRuBKkirYk4Eq-6GnKqzgEcYKbgTnLp1NhQ");
  EXPECT_EQ(base64url_encode(data_root(data, ChunkingRule::fixed)), "3mSWTJfNIRuBKkirYk4Eq-6GnKqzgEcYKbgTnLp1NhQ");
}

}  // namespace
}  // namespace kem::store
