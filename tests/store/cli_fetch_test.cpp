// `kem fetch` and the KERNEL argument of `kem run`, parsed by CLI11 exactly as the kem binary
// parses them, against a loopback gateway; then again with the gateway stopped.
#include <gtest/gtest.h>

#include <fstream>

#include "cli/dash_ids.h"
#include "cli/store_options.h"
#include "gateway_fixtures.h"
#include "hash.h"
#include "temp_dir.h"

namespace kem::cli {
namespace {

using namespace kem::store::testing;

const std::string kSource = kWgslSource;

struct Outcome {
  int exit_status = -1;
  std::string out, err;
};

// Runs "kem <args...>" through a CLI11 app holding only the fetch command, with the arguments
// prepared as main.cpp prepares them (an ID starting with '-', one random ID in 64, is an ID).
Outcome kem(const std::vector<std::string>& args) {
  CLI::App app{"kem"};
  Outcome outcome;
  add_fetch_command(app, outcome.exit_status);
  std::vector<const char*> argv{"kem"};
  for (const std::string& a : args) argv.push_back(a.c_str());
  std::vector<std::string> prepared = protect_dash_ids(app, static_cast<int>(argv.size()), argv.data());
  prepared.erase(prepared.begin());                  // argv[0]
  std::reverse(prepared.begin(), prepared.end());    // CLI11 takes the arguments last first
  ::testing::internal::CaptureStdout();
  ::testing::internal::CaptureStderr();
  try {
    app.parse(prepared);
  } catch (const CLI::ParseError&) {
    outcome.exit_status = 2;  // what main.cpp maps a parse error to
  }
  outcome.out = ::testing::internal::GetCapturedStdout();
  outcome.err = ::testing::internal::GetCapturedStderr();
  return outcome;
}

TEST(KemFetch, PrintsTheSourceThenServesItFromTheCacheWhenTheGatewayIsGone) {
  LoopbackGateway gateway;
  TempDir cache;
  const auto tx = make_layer1_tx(SigningKey::rsa4096(), Layer1Spec{.data = kSource});
  publish_layer1(gateway, tx);
  const Outcome first = kem({"fetch", tx.id, "--gateway", gateway.url(), "--cache-dir", cache.path()});
  EXPECT_EQ(first.exit_status, 0) << first.err;
  EXPECT_EQ(first.out, kSource);
  EXPECT_EQ(first.err, "kem: " + tx.id + " from " + gateway.url() + ", verified layer1-tx, owner " +
                           store::owner_address(SigningKey::rsa4096().owner()) + "\n");

  gateway.stop();
  const Outcome second = kem({"fetch", tx.id, "--gateway", gateway.url(), "--cache-dir", cache.path(), "--offline"});
  EXPECT_EQ(second.exit_status, 0) << second.err;
  EXPECT_EQ(second.out, kSource);
  EXPECT_NE(second.err.find("from the disk cache " + cache.path() + "/" + tx.id + ".kernel (fetched from " + gateway.url() + ")"),
            std::string::npos)
      << second.err;
}

TEST(KemFetch, ExitStatusesForUsageAndFetchErrors) {
  LoopbackGateway gateway;
  TempDir cache;
  const Outcome bad_id = kem({"fetch", "not-an-id", "--gateway", gateway.url(), "--cache-dir", cache.path()});
  EXPECT_EQ(bad_id.exit_status, 2);
  EXPECT_EQ(bad_id.err, "kem: invalid_argument: not an Arweave ID: 9 characters, an ID has exactly 43 (base64url)\n");

  const std::string id = random_id();
  const Outcome missing = kem({"fetch", id, "--gateway", gateway.url(), "--cache-dir", cache.path()});
  EXPECT_EQ(missing.exit_status, 1);
  EXPECT_EQ(missing.out, "");
  EXPECT_EQ(missing.err, "kem: not_found: kernel " + id + ": no gateway could serve it: " + gateway.url() + ": GET /raw/" +
                             id + ": HTTP 404 not found\n");

  EXPECT_EQ(kem({"fetch", id, "--verify", "maybe"}).exit_status, 2);
  EXPECT_EQ(gateway.requests().size(), 1u);  // the bad ID and the bad option asked nothing
}

// One random ID in 64 starts with '-': it is still the ID, not an option (CI drew one here).
TEST(KemFetch, AnIdStartingWithADashIsAnId) {
  LoopbackGateway gateway;
  TempDir cache;
  const std::string id = "-" + std::string(42, 'A');
  const Outcome missing = kem({"fetch", id, "--gateway", gateway.url(), "--cache-dir", cache.path()});
  EXPECT_EQ(missing.exit_status, 1);
  EXPECT_EQ(missing.err, "kem: not_found: kernel " + id + ": no gateway could serve it: " + gateway.url() + ": GET /raw/" +
                             id + ": HTTP 404 not found\n");
  EXPECT_EQ(gateway.requests().size(), 1u);
}

TEST(KemFetch, VerifyOffIsReported) {
  LoopbackGateway gateway;
  TempDir cache;
  const std::string id = random_id();
  gateway.set("/raw/" + id, CannedResponse{.body = kSource});
  const Outcome outcome = kem({"fetch", id, "--gateway", gateway.url(), "--cache-dir", cache.path(), "--verify", "off"});
  EXPECT_EQ(outcome.exit_status, 0) << outcome.err;
  EXPECT_EQ(outcome.out, kSource);
  EXPECT_EQ(outcome.err, "kem: " + id + " from " + gateway.url() + ", unverified (verification off)\n");
}

TEST(KernelArgument, FileOrIdOrNeither) {
  TempDir dir;
  std::ofstream(dir.file("add.wgsl")) << kSource;
  auto file = kernel_ref_argument(dir.file("add.wgsl"));
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->kind, KernelRef::Kind::file);
  EXPECT_EQ(file->value, dir.file("add.wgsl"));

  auto neither = kernel_ref_argument(dir.file("missing.wgsl"));
  ASSERT_FALSE(neither.ok());
  EXPECT_EQ(neither.error().code, ErrorCode::not_found);
  EXPECT_EQ(neither.error().message.rfind("kernel '" + dir.file("missing.wgsl") + "' is neither an existing file nor an Arweave ID", 0), 0u);

  const std::string id = random_id();
  auto by_id = kernel_ref_argument(id);
  ASSERT_TRUE(by_id.ok()) << by_id.error().message;
  EXPECT_EQ(by_id->kind, KernelRef::Kind::arweave_id);
  EXPECT_EQ(by_id->value, id);
}

}  // namespace
}  // namespace kem::cli
