// The trust policy's decision, for every kind of resolved kernel.
#include <gtest/gtest.h>

#include "kem/trust_policy.h"

namespace kem {
namespace {

const std::string kId = "btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg";
const std::string kOwner = "OWNERaddressOWNERaddressOWNERaddressOWNERaA";

ResolvedKernel kernel(std::string id, std::string owner, Verification verification) {
  ResolvedKernel k;
  k.source = "fn main() {}";
  k.id = std::move(id);
  k.owner_address = std::move(owner);
  k.verification = verification;
  return k;
}

TEST(TrustPolicy, AnIdIsTrustedByItsIdOrByItsVerifiedOwner) {
  TrustPolicy none;
  EXPECT_FALSE(none.unmetered(kernel(kId, kOwner, Verification::ans104)));
  TrustPolicy by_id{{kId}, {}};
  EXPECT_TRUE(by_id.unmetered(kernel(kId, "", Verification::pinned)));
  EXPECT_TRUE(by_id.unmetered(kernel(kId, kOwner, Verification::layer1_tx)));
  TrustPolicy by_owner{{}, {kOwner}};
  EXPECT_TRUE(by_owner.unmetered(kernel(kId, kOwner, Verification::ans104)));
  // The store leaves the owner empty unless it verified a signature (pins, verify off).
  EXPECT_FALSE(by_owner.unmetered(kernel(kId, "", Verification::pinned)));
  EXPECT_FALSE(by_owner.unmetered(kernel(kId, "", Verification::unverified)));
  EXPECT_FALSE(by_owner.unmetered(kernel(kId, "someoneElseEntirelysomeoneElseEntirelysomeo", Verification::ans104)));
}

TEST(TrustPolicy, InlineAndFileKernelsAreNeverTrusted) {
  TrustPolicy all{{kId}, {kOwner}};
  EXPECT_FALSE(all.unmetered(kernel("", "", Verification::unverified)));
  EXPECT_FALSE(all.unmetered(kernel("", kOwner, Verification::unverified)));
}

TEST(TrustPolicy, MalformedEntriesAreNamed) {
  EXPECT_TRUE(TrustPolicy({kId}, {kOwner}).validate().ok());
  auto bad_id = TrustPolicy{{"not-an-id"}, {}}.validate();
  ASSERT_FALSE(bad_id.ok());
  EXPECT_EQ(bad_id.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(bad_id.error().message.rfind("unmetered_ids 'not-an-id': not an Arweave ID", 0), 0u) << bad_id.error().message;
  auto bad_owner = TrustPolicy{{}, {"x"}}.validate();
  ASSERT_FALSE(bad_owner.ok());
  EXPECT_EQ(bad_owner.error().message.rfind("unmetered_owners 'x': ", 0), 0u) << bad_owner.error().message;
}

}  // namespace
}  // namespace kem
