// The "done" path with the real kem binary: a kernel ID served by a loopback gateway
// runs through `kem run ID --gateway http://127.0.0.1:PORT`, then again with the gateway
// stopped (from the cache); a tampered copy is refused with the reason.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "gateway_fixtures.h"
#include "temp_dir.h"

namespace kem::store {
namespace {

using namespace testing;

struct Outcome {
  int status = -1;
  std::string out, err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

Outcome kem(const TempDir& dir, const std::string& args, const std::string& input) {
  std::ofstream(dir.file("stdin"), std::ios::binary) << input;
  const std::string command = std::string(KEM_BINARY) + " " + args + " < " + dir.file("stdin") + " > " +
                              dir.file("stdout") + " 2> " + dir.file("stderr");
  const int raw = std::system(command.c_str());
  return Outcome{WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, slurp(dir.file("stdout")), slurp(dir.file("stderr"))};
}

TEST(KemRunById, RunsFromTheGatewayThenFromTheCache) {
  const std::string source = slurp(std::string(KEM_SOURCE_DIR) + "/kernels/double-integer.wgsl");
  ASSERT_FALSE(source.empty());
  const std::vector<DataItemFixture> items = {
      make_data_item(SigningKey::rsa4096(), DataItemSpec{.data = source, .tags = {{"Content-Type", "text/wgsl"}}})};
  const BundleFixture bundle = make_bundle(items);
  LoopbackGateway gateway;
  const std::string root = random_id();
  publish_bundled(gateway, root, bundle, items, 0);
  TempDir dir;
  const std::string options = " --gateway " + gateway.url() + " --cache-dir " + dir.file("cache");
  const std::string input("\x01\x03\x05\x07", 4);  // u32 0x07050301, doubled: 0x0e0a0602

  const Outcome fetched = kem(dir, "run " + items[0].id + options + " --format hex", input);
  EXPECT_EQ(fetched.status, 0) << fetched.err;
  EXPECT_EQ(fetched.out, "02060a0e\n");
  EXPECT_EQ(gateway.count("GET", "/raw/" + items[0].id), 1u);
  EXPECT_EQ(gateway.count("GET", "/raw/" + root), 1u);  // the signed header, by range

  gateway.stop();
  const Outcome cached = kem(dir, "run " + items[0].id + options + " --format hex", input);
  EXPECT_EQ(cached.status, 0) << cached.err;
  EXPECT_EQ(cached.out, "02060a0e\n");
  EXPECT_TRUE(std::filesystem::exists(dir.file("cache") + "/" + items[0].id + ".kernel"));
}

// One Arweave ID in 64 starts with '-'; CI once drew one and `kem run -X...` read it as options.
// Signs the kernel with a changing tag until its ID starts with '-', then passes that ID as the
// kernel, as an option's value, after an explicit `--`, and before a list flag's value.
TEST(KemRunById, AnIdStartingWithADashIsAnIdNotAnOption) {
  const std::string source = slurp(std::string(KEM_SOURCE_DIR) + "/kernels/double-integer.wgsl");
  DataItemFixture item;
  for (int nonce = 0; nonce < 5000 && item.id.rfind('-', 0) != 0; ++nonce) {
    item = make_data_item(SigningKey::ed25519(),
                          DataItemSpec{.data = source, .tags = {{"Content-Type", "text/wgsl"}, {"Nonce", std::to_string(nonce)}}});
  }
  ASSERT_EQ(item.id.rfind('-', 0), 0u) << item.id;
  const BundleFixture bundle = make_bundle({item});
  LoopbackGateway gateway;
  const std::string root = random_id();
  publish_bundled(gateway, root, bundle, {item}, 0);
  TempDir dir;
  const std::string options = " --gateway " + gateway.url() + " --cache-dir " + dir.file("cache");
  const std::string input("\x01\x03\x05\x07", 4);

  for (const std::string& line : {"run " + item.id + options + " --format hex",
                                  "run --unmetered-id " + item.id + " " + item.id + options + " --format hex",
                                  "run" + options + " --format hex -- " + item.id,
                                  "run " + item.id + options + " --unmetered-id " + random_id() + " --format hex"}) {
    const Outcome outcome = kem(dir, line, input);
    EXPECT_EQ(outcome.status, 0) << line << "\n" << outcome.err;
    EXPECT_EQ(outcome.out, "02060a0e\n") << line;
  }
  // A malformed list entry is a usage error about that entry, the ID still the kernel: list flags
  // took further arguments as values, and the ID moved behind `--` was lost ("kernel is
  // required"; the Unmetered suite drew such an ID).
  const Outcome malformed = kem(dir, "run " + item.id + options + " --unmetered-id not-an-id", input);
  EXPECT_EQ(malformed.status, 2) << malformed.err;
  EXPECT_EQ(malformed.err.rfind("kem: invalid_argument: unmetered_ids 'not-an-id': ", 0), 0u) << malformed.err;
  const Outcome fetched = kem(dir, "fetch " + item.id + options, "");
  EXPECT_EQ(fetched.status, 0) << fetched.err;
  EXPECT_EQ(fetched.out, source);
}

TEST(KemRunById, TamperedKernelIsRefused) {
  auto tx = make_layer1_tx(SigningKey::rsa4096(), Layer1Spec{.data = slurp(std::string(KEM_SOURCE_DIR) + "/kernels/double-integer.wgsl")});
  tx.data.replace(tx.data.find("* 2u"), 4, "* 3u");
  LoopbackGateway gateway;
  publish_layer1(gateway, tx);
  TempDir dir;
  const Outcome outcome = kem(dir, "run " + tx.id + " --gateway " + gateway.url() + " --cache-dir " + dir.file("cache"),
                              std::string(4, '\x01'));
  EXPECT_EQ(outcome.status, 1);
  EXPECT_EQ(outcome.out, "");
  EXPECT_NE(outcome.err.find("verification_failed: kernel " + tx.id + ": no gateway could serve it: " + gateway.url() +
                             ": transaction " + tx.id + ": data_root mismatch"),
            std::string::npos)
      << outcome.err;
}

}  // namespace
}  // namespace kem::store
