// The operator's allow-list for unmetered kernels, through the real kem binary: a kernel ID
// served by a loopback gateway as a signed ANS-104 data item runs past a low --loop-budget only
// when its ID or its verified owner is listed; anything else, and the same source from a file,
// stays metered and fails with budget_exceeded.
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <sys/wait.h>

#include <fstream>
#include <iterator>

#include "base64url.h"
#include "gateway_fixtures.h"
#include "temp_dir.h"
#include "test_support.h"

namespace kem::store {
namespace {

using namespace testing;

const std::string kSumKernel = test::kInputSumKernel;
const std::string kInput("\x64\x00\x00\x00", 4);  // 100 iterations
const std::string kSum = "4950\n";                 // 100 * 99 / 2, printed by --format u32

struct Outcome {
  int status = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// An Arweave address computed here, independently of the store: base64url(SHA-256(owner)).
std::string address_of(const SigningKey& key) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.owner().data()), key.owner().size(), digest);
  return base64url_encode(BytesView(reinterpret_cast<const char*>(digest), sizeof digest));
}

class Unmetered : public ::testing::Test {
 protected:
  void SetUp() override {
    item_ = make_data_item(SigningKey::ed25519(),
                           DataItemSpec{.data = kSumKernel,
                                        .tags = {{"Content-Type", "text/wgsl"}}});
    const std::vector<DataItemFixture> items = {item_};
    publish_bundled(gateway_, random_id(), make_bundle(items), items, 0);
    std::ofstream(dir_.file("sum.wgsl"), std::ios::binary) << kSumKernel;
    std::ofstream(dir_.file("stdin"), std::ios::binary) << kInput;
  }

  // `kem run KERNEL --loop-budget BUDGET --format u32 EXTRA` with the gateway and a private cache.
  Outcome run(const std::string& kernel, const std::string& extra, const std::string& cache = "cache",
              const std::string& budget = "99") {
    const std::string command = std::string(KEM_BINARY) + " run " + kernel + " --gateway " + gateway_.url() +
                                " --cache-dir " + dir_.file(cache) + " --loop-budget " + budget + " --format u32 " + extra +
                                " < " + dir_.file("stdin") + " > " + dir_.file("stdout") + " 2> " +
                                dir_.file("stderr");
    const int raw = std::system(command.c_str());
    return Outcome{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(dir_.file("stdout")), slurp(dir_.file("stderr"))};
  }

  static void expect_metered(const Outcome& o) {
    EXPECT_EQ(o.status, 1) << o.err;
    EXPECT_EQ(o.out, "");
    EXPECT_EQ(o.err.rfind("kem: budget_exceeded: ", 0), 0u) << o.err;
  }
  static void expect_unmetered(const Outcome& o) {
    EXPECT_EQ(o.status, 0) << o.err;
    EXPECT_EQ(o.out, kSum);
  }

  DataItemFixture item_;
  LoopbackGateway gateway_;
  TempDir dir_;
};

TEST_F(Unmetered, TheBudgetHoldsForAnUnlistedKernel) {
  expect_metered(run(item_.id, ""));
  // The budget is exact: the same 100 iterations fit a budget of 100.
  expect_unmetered(run(item_.id, "", "cache", "100"));
  // Lists that name another kernel or another publisher change nothing.
  expect_metered(run(item_.id, "--unmetered-id " + random_id() + " --unmetered-owner " + random_id()));
}

TEST_F(Unmetered, AListedIdRunsUnmetered) {
  expect_unmetered(run(item_.id, "--unmetered-id " + random_id() + " --unmetered-id " + item_.id));
}

TEST_F(Unmetered, AListedVerifiedOwnerRunsUnmetered) {
  const std::string owner = address_of(SigningKey::ed25519());
  expect_unmetered(run(item_.id, "--unmetered-owner " + owner));
  // Without verification the owner is unknown, so the owner list cannot apply (fresh cache).
  expect_metered(run(item_.id, "--verify off --unmetered-owner " + owner, "unverified-cache"));
}

TEST_F(Unmetered, AFileIsNeverUnmeteredByTheLists) {
  const std::string owner = address_of(SigningKey::ed25519());
  expect_metered(run(dir_.file("sum.wgsl"), "--unmetered-id " + item_.id + " --unmetered-owner " + owner));
}

TEST_F(Unmetered, MalformedEntriesAreUsageErrors) {
  const Outcome bad_id = run(item_.id, "--unmetered-id not-an-id");
  EXPECT_EQ(bad_id.status, 2);
  EXPECT_EQ(bad_id.err.rfind("kem: invalid_argument: unmetered_ids 'not-an-id': ", 0), 0u) << bad_id.err;
  const Outcome bad_owner = run(item_.id, "--unmetered-owner x");
  EXPECT_EQ(bad_owner.status, 2);
  EXPECT_EQ(bad_owner.err.rfind("kem: invalid_argument: unmetered_owners 'x': ", 0), 0u) << bad_owner.err;
}

}  // namespace
}  // namespace kem::store
