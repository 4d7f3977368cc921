// ANS-104 data items: the real ar-io-node bundle, and fresh RSA-4096 / ed25519 items tampered
// one field at a time.
#include <gtest/gtest.h>

#include "ans104.h"
#include "ans104_bundle.h"
#include "base64url.h"
#include "hash.h"
#include "signing_fixtures.h"

namespace kem::store {
namespace {

using testing::DataItemSpec;
using testing::SigningKey;
using testing::make_data_item;
using testing::read_vector;

struct ParsedItem {
  DataItemHeader header;
  Bytes data;
};

ParsedItem parse_item(BytesView bytes) {
  auto header = parse_data_item_header(bytes);
  EXPECT_TRUE(header.ok()) << header.error().message;
  if (!header.ok()) return {};
  return {*header, Bytes(bytes.substr(header->size))};
}

TEST(Ans104, RealBundleItemsVerify) {
  const Bytes bundle = read_vector("ar-io-node_ans104_bundle.bin");
  auto index = parse_bundle_index(bundle);
  ASSERT_TRUE(index.ok()) << index.error().message;
  ASSERT_EQ(index->size(), 2u);
  EXPECT_EQ((*index)[0].id, "o3SqlL0lJaX2qImNQPLwutUO5KZPFoZAK9R9wBvmsOQ");
  EXPECT_EQ((*index)[1].id, "l46BnqlXmMou44StMSCmkNa62z-8iuj0TAvzBU6o_0g");
  const std::size_t expected_tags[] = {9, 4};
  for (std::size_t i = 0; i < 2; ++i) {
    const BundleEntry& entry = (*index)[i];
    const ParsedItem item = parse_item(BytesView(bundle).substr(entry.offset, entry.size));
    EXPECT_EQ(item.header.signature_type, 1);
    EXPECT_EQ(item.header.tags.size(), expected_tags[i]);
    Status status = verify_data_item(item.header, item.data, entry.id);
    EXPECT_TRUE(status.ok()) << entry.id << ": " << status.error().message;
  }
  const ParsedItem second = parse_item(BytesView(bundle).substr((*index)[1].offset, (*index)[1].size));
  EXPECT_EQ(second.header.tags[0], (std::pair<Bytes, Bytes>{"App-Name", "ArDrive-Web"}));
}

TEST(Ans104, FreshRsaAndEd25519ItemsVerify) {
  for (const SigningKey* key : {&SigningKey::rsa4096(), &SigningKey::ed25519()}) {
    const auto fixture = make_data_item(*key, DataItemSpec{.data = "fn main() {}", .target = Bytes(32, 't'), .anchor = Bytes(32, 'a')});
    const ParsedItem item = parse_item(fixture.bytes);
    EXPECT_EQ(item.header.size, fixture.header_size);
    EXPECT_EQ(item.header.target, Bytes(32, 't'));
    Status status = verify_data_item(item.header, item.data, fixture.id);
    EXPECT_TRUE(status.ok()) << status.error().message;
  }
}

TEST(Ans104, FlippedDataByteIsRejected) {
  const auto fixture = make_data_item(SigningKey::ed25519(), DataItemSpec{.data = "fn main() {}"});
  ParsedItem item = parse_item(fixture.bytes);
  item.data[0] ^= 0x20;
  Status status = verify_data_item(item.header, item.data, fixture.id);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, "data item " + fixture.id + ": ed25519 signature does not verify for owner " +
                                        owner_address(SigningKey::ed25519().owner()) + " over its header, tags and data");
}

TEST(Ans104, ChangedTagIsRejected) {
  const Bytes bundle = read_vector("ar-io-node_ans104_bundle.bin");
  auto index = parse_bundle_index(bundle);
  ASSERT_TRUE(index.ok());
  Bytes item_bytes = bundle.substr((*index)[1].offset, (*index)[1].size);
  const std::size_t at = item_bytes.find("ArDrive-Web");
  ASSERT_NE(at, Bytes::npos);
  item_bytes[at] = 'B';
  const ParsedItem item = parse_item(item_bytes);
  Status status = verify_data_item(item.header, item.data, (*index)[1].id);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("RSA-PSS signature does not verify"), std::string::npos);
}

TEST(Ans104, SwappedOwnerOrSignatureIsRejected) {
  const auto mine = make_data_item(SigningKey::rsa4096(), DataItemSpec{.data = "fn main() {}"});
  const auto other = make_data_item(SigningKey::rsa4096_other(), DataItemSpec{.data = "fn main() {}"});
  ParsedItem item = parse_item(mine.bytes);
  const ParsedItem other_item = parse_item(other.bytes);

  ParsedItem owner_swapped = item;
  owner_swapped.header.owner = other_item.header.owner;
  Status owner_status = verify_data_item(owner_swapped.header, owner_swapped.data, mine.id);
  ASSERT_FALSE(owner_status.ok());
  EXPECT_NE(owner_status.error().message.find("signature does not verify"), std::string::npos);

  ParsedItem signature_swapped = item;
  signature_swapped.header.signature = other_item.header.signature;
  Status signature_status = verify_data_item(signature_swapped.header, signature_swapped.data, mine.id);
  ASSERT_FALSE(signature_status.ok());
  EXPECT_NE(signature_status.error().message.find("does not match its signature"), std::string::npos);
}

TEST(Ans104, UnsupportedAndUnknownSignatureTypes) {
  Bytes ethereum(2 + 65 + 65 + 2 + 16, '\0');
  ethereum[0] = 3;
  auto header = parse_data_item_header(ethereum);
  ASSERT_TRUE(header.ok()) << header.error().message;
  Status status = verify_data_item(*header, "", base64url_encode(sha256(header->signature)));
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, "unsupported signature type 3 (ethereum (secp256k1))");

  auto unknown = parse_data_item_header(std::string("\x63\x00", 2));
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "unsupported signature type 99");
}

TEST(Ans104, InconsistentHeadersAreMalformed) {
  const auto fixture = make_data_item(SigningKey::ed25519(), DataItemSpec{.data = "x"});
  Bytes wrong_count = fixture.bytes;
  wrong_count[2 + 64 + 32 + 2] = 5;  // tag count says 5, the Avro bytes hold 1
  auto header = parse_data_item_header(wrong_count);
  ASSERT_FALSE(header.ok());
  EXPECT_EQ(header.error().message, "malformed ANS-104 data item header: header declares 5 tags, the tag bytes hold 1");
  auto truncated = parse_data_item_header(BytesView(fixture.bytes).substr(0, 50));
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().message, "malformed ANS-104 data item header: truncated in the signature");
}

}  // namespace
}  // namespace kem::store
