// KernelStore end to end against loopback gateways: each proof path, the caches, pins,
// offline mode, policies and concurrent callers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "ans104.h"
#include "ans104_bundle.h"
#include "base64url.h"
#include "gateway_fixtures.h"
#include "hash.h"
#include "kem/kernel_store.h"
#include "temp_dir.h"

namespace kem::store {
namespace {

using namespace testing;

const Bytes kSource = kWgslSource;

TEST(KernelStore, Layer1TransactionVerifiesThenComesFromTheCaches) {
  LoopbackGateway gateway;
  TempDir cache;
  const auto tx = make_layer1_tx(SigningKey::rsa4096(), Layer1Spec{.data = kSource});
  publish_layer1(gateway, tx);
  auto store = make_store(test_options({gateway.url()}, cache.path()));

  auto first = store->resolve(KernelRef::id(tx.id));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->source, kSource);
  EXPECT_EQ(first->id, tx.id);
  EXPECT_EQ(first->origin, Origin::gateway);
  EXPECT_EQ(first->gateway, gateway.url());
  EXPECT_EQ(first->verification, Verification::layer1_tx);
  EXPECT_EQ(first->owner_address, owner_address(SigningKey::rsa4096().owner()));
  EXPECT_EQ(first->describe(), tx.id + " from " + gateway.url() + ", verified layer1-tx, owner " + first->owner_address);

  auto second = store->resolve(KernelRef::id(tx.id));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->origin, Origin::memory_cache);
  EXPECT_EQ(second->source, kSource);
  EXPECT_EQ(gateway.count("GET", "/raw/" + tx.id), 1u);

  // Another process (a fresh store) on the same directory, with the gateway gone.
  gateway.stop();
  auto other = make_store(test_options({gateway.url()}, cache.path()));
  auto third = other->resolve(KernelRef::id(tx.id));
  ASSERT_TRUE(third.ok()) << third.error().message;
  EXPECT_EQ(third->origin, Origin::disk_cache);
  EXPECT_EQ(third->source, kSource);
  EXPECT_EQ(third->verification, Verification::layer1_tx);
  EXPECT_EQ(third->owner_address, first->owner_address);
  EXPECT_EQ(third->location, cache.path() + "/" + tx.id + ".kernel");
}

TEST(KernelStore, BundledDataItemsVerifyThroughRootHeadersOnGetOrHead) {
  LoopbackGateway gateway;
  TempDir cache;
  const std::vector<DataItemFixture> items = {
      make_data_item(SigningKey::rsa4096(), DataItemSpec{.data = "// rsa\n" + kSource, .tags = {{"Content-Type", "text/wgsl"}}}),
      make_data_item(SigningKey::ed25519(), DataItemSpec{.data = "// ed25519\n" + kSource, .anchor = Bytes(32, 'n')}),
  };
  const BundleFixture bundle = make_bundle(items);
  const std::string root = random_id();
  publish_bundled(gateway, root, bundle, items, 0, {.on_get = true});
  publish_bundled(gateway, root, bundle, items, 1, {.on_get = false});
  auto store = make_store(test_options({gateway.url()}, cache.path()));

  for (std::size_t i = 0; i < items.size(); ++i) {
    auto kernel = store->resolve(KernelRef::id(items[i].id));
    ASSERT_TRUE(kernel.ok()) << kernel.error().message;
    EXPECT_EQ(kernel->source, items[i].bytes.substr(items[i].header_size));
    EXPECT_EQ(kernel->verification, Verification::ans104);
  }
  EXPECT_EQ(store->resolve(KernelRef::id(items[1].id))->owner_address, owner_address(SigningKey::ed25519().owner()));
  // The GET carried the root headers for item 0: no /tx or HEAD round trips were needed.
  EXPECT_EQ(gateway.count("GET", "/tx/" + items[0].id), 0u);
  EXPECT_EQ(gateway.count("HEAD", "/raw/" + items[1].id), 1u);
  // Only header bytes were read from the bundle, never the whole of it.
  for (const RecordedRequest& request : gateway.requests()) {
    if (request.path == "/raw/" + root) {
      EXPECT_EQ(request.headers.count("range"), 1u);
    }
  }
}

TEST(KernelStore, RealArIoBundleItemsVerify) {
  LoopbackGateway gateway;
  TempDir cache;
  const Bytes bundle = read_vector("ar-io-node_ans104_bundle.bin");
  auto index = parse_bundle_index(bundle);
  ASSERT_TRUE(index.ok());
  const std::string root = random_id();
  gateway.set("/raw/" + root, CannedResponse{.body = bundle, .ranges = true});
  std::vector<std::string> owners;
  for (const BundleEntry& entry : *index) {
    const Bytes item = bundle.substr(entry.offset, entry.size);
    const std::size_t header_size = parse_data_item_header(item).value().size;
    gateway.set("/raw/" + entry.id,
                CannedResponse{.headers = {{"X-AR-IO-Root-Transaction-Id", root},
                                           {"X-AR-IO-Root-Data-Item-Offset", std::to_string(entry.offset)},
                                           {"X-AR-IO-Root-Data-Offset", std::to_string(entry.offset + header_size)}},
                               .body = item.substr(header_size)});
  }
  auto store = make_store(test_options({gateway.url()}, cache.path()));
  for (const BundleEntry& entry : *index) {
    auto kernel = store->resolve(KernelRef::id(entry.id));
    ASSERT_TRUE(kernel.ok()) << kernel.error().message;
    EXPECT_EQ(kernel->verification, Verification::ans104);
    EXPECT_EQ(kernel->source.front(), '{');
    owners.push_back(kernel->owner_address);
  }
  EXPECT_EQ(owners[0], owners[1]);  // one ArDrive wallet signed both
  EXPECT_EQ(owners[0].size(), 43u);
}

TEST(KernelStore, RealArweaveJsTransactionVerifiesAndItsStaleIdDoesNot) {
  LoopbackGateway gateway;
  TempDir cache;
  const Bytes header = read_vector("arweave-js_signed_v2_tx.json");
  const auto unsigned_tx = nlohmann::json::parse(read_vector("arweave-js_unsigned_v2_tx.json"));
  const Bytes data = base64url_decode(unsigned_tx["data"].get<std::string>()).value();
  const std::string real_id = "YYsecjlH5ymDGTRWWP9xFJzoPrQCxzaRsuC1xGoF2cA";
  const std::string stale_id = "FxgiSM3JOAsjnZF-Yzv2z7h-Io4K6GmCarhQ0qAUL6I";
  for (const std::string& id : {real_id, stale_id}) {
    gateway.set("/raw/" + id, CannedResponse{.body = data});
    gateway.set("/tx/" + id, CannedResponse{.body = header});
  }
  StoreOptions options = test_options({gateway.url()}, cache.path());
  options.max_source_bytes = 4 << 20;
  auto store = make_store(options);

  // Its data is random bytes, not WGSL: verification passes, then the text check refuses it.
  auto real = store->resolve(KernelRef::id(real_id));
  ASSERT_FALSE(real.ok());
  EXPECT_EQ(real.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(real.error().message.find("kernel " + real_id + " is not valid UTF-8"), std::string::npos) << real.error().message;

  auto stale = store->resolve(KernelRef::id(stale_id));
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().code, ErrorCode::verification_failed);
  EXPECT_NE(stale.error().message.find("transaction id does not match its signature: SHA-256(signature) is " + real_id),
            std::string::npos)
      << stale.error().message;
}

TEST(KernelStore, ChunkingEdgeSizesVerify) {
  LoopbackGateway gateway;
  TempDir cache;
  StoreOptions options = test_options({gateway.url()}, cache.path());
  options.max_source_bytes = 2 << 20;
  auto store = make_store(options);
  struct Case { std::size_t size; ChunkingRule rule; };
  for (const Case& c : {Case{0, ChunkingRule::balanced}, Case{kMaxChunkSize, ChunkingRule::fixed},
                        Case{kMaxChunkSize + 1000, ChunkingRule::balanced}, Case{kMaxChunkSize + 1000, ChunkingRule::fixed}}) {
    Bytes data(c.size, '\0');
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + (i * 31 + c.size) % 26);
    const auto tx = make_layer1_tx(SigningKey::rsa4096(), Layer1Spec{.data = data, .rule = c.rule});
    publish_layer1(gateway, tx);
    auto kernel = store->resolve(KernelRef::id(tx.id));
    ASSERT_TRUE(kernel.ok()) << c.size << ": " << kernel.error().message;
    EXPECT_EQ(kernel->source, data);
  }
}

TEST(KernelStore, FilesAndInlineSourceAreCheckedButNotVerified) {
  TempDir dir;
  auto store = make_store(test_options({"https://arweave.net"}, dir.path()));
  std::ofstream(dir.file("k.wgsl")) << kSource;
  auto file = store->resolve(KernelRef::file(dir.file("k.wgsl")));
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(file->source, kSource);
  EXPECT_EQ(file->origin, Origin::file);
  EXPECT_EQ(file->describe(), "file " + dir.file("k.wgsl") + " (unverified)");
  auto missing = store->resolve(KernelRef::file(dir.file("none.wgsl")));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  auto inline_source = store->resolve(KernelRef::inline_source(kSource));
  ASSERT_TRUE(inline_source.ok());
  EXPECT_EQ(inline_source->verification, Verification::unverified);
  auto binary = store->resolve(KernelRef::inline_source("fn \xff"));
  ASSERT_FALSE(binary.ok());
  EXPECT_EQ(binary.error().message, "inline source is not valid UTF-8 (first bad byte at offset 3)");
  // Bytes that are not UTF-8 inside a comment are accepted, as Tint accepts them (issue 19).
  const std::string commented = std::string(kSource) + "\n// \xff\xfe latin-1: caf\xe9\n/* \xc0\xaf */\n";
  auto in_comment = store->resolve(KernelRef::inline_source(commented));
  ASSERT_TRUE(in_comment.ok()) << in_comment.error().message;
  auto big = store->resolve(KernelRef::inline_source(Bytes((1 << 20) + 1, ' ')));
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, ErrorCode::limit_exceeded);
}

TEST(KernelStore, MalformedIdsFailBeforeAnyNetworkCall) {
  LoopbackGateway gateway;
  TempDir cache;
  auto store = make_store(test_options({gateway.url()}, cache.path()));
  for (const std::string& text : {std::string("short"), std::string(44, 'A'), std::string(42, 'A') + "+",
                                  std::string(42, 'A') + "B"}) {
    auto kernel = store->resolve(KernelRef::id(text));
    ASSERT_FALSE(kernel.ok()) << text;
    EXPECT_EQ(kernel.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(kernel.error().message.rfind("not an Arweave ID: ", 0), 0u);
  }
  EXPECT_TRUE(gateway.requests().empty());
  EXPECT_EQ(parse_kernel_ref("kernels/add.wgsl").kind, KernelRef::Kind::file);
  EXPECT_EQ(parse_kernel_ref("o3SqlL0lJaX2qImNQPLwutUO5KZPFoZAK9R9wBvmsOQ").kind, KernelRef::Kind::arweave_id);
}

TEST(KernelStore, PinsAreServedWithoutTheNetwork) {
  LoopbackGateway gateway;
  TempDir dir;
  const std::string id = random_id();
  std::filesystem::create_directories(dir.file("pins"));
  std::ofstream(dir.file("pins/" + id + ".wgsl")) << kSource;
  StoreOptions options = test_options({gateway.url()}, dir.file("cache"));
  options.pin_dir = dir.file("pins");
  auto store = make_store(options);
  auto kernel = store->resolve(KernelRef::id(id));
  ASSERT_TRUE(kernel.ok()) << kernel.error().message;
  EXPECT_EQ(kernel->source, kSource);
  EXPECT_EQ(kernel->verification, Verification::pinned);
  EXPECT_EQ(kernel->origin, Origin::pin);
  EXPECT_TRUE(gateway.requests().empty());
}

TEST(KernelStore, OfflineServesOnlyTheCache) {
  LoopbackGateway gateway;
  TempDir cache;
  const auto tx = make_layer1_tx(SigningKey::rsa4096(), Layer1Spec{.data = kSource});
  publish_layer1(gateway, tx);
  StoreOptions options = test_options({gateway.url()}, cache.path());
  options.offline = true;
  auto offline = make_store(options);
  auto miss = offline->resolve(KernelRef::id(tx.id));
  ASSERT_FALSE(miss.ok());
  EXPECT_EQ(miss.error().code, ErrorCode::not_found);
  EXPECT_EQ(miss.error().message, "offline: kernel " + tx.id + " is not in the cache " + cache.path());
  EXPECT_TRUE(gateway.requests().empty());

  ASSERT_TRUE(make_store(test_options({gateway.url()}, cache.path()))->resolve(KernelRef::id(tx.id)).ok());
  auto hit = make_store(options)->resolve(KernelRef::id(tx.id));
  ASSERT_TRUE(hit.ok()) << hit.error().message;
  EXPECT_EQ(hit->origin, Origin::disk_cache);
}

TEST(KernelStore, CorruptCacheFileIsRefetched) {
  LoopbackGateway gateway;
  TempDir cache;
  const auto tx = make_layer1_tx(SigningKey::rsa4096(), Layer1Spec{.data = kSource});
  publish_layer1(gateway, tx);
  ASSERT_TRUE(make_store(test_options({gateway.url()}, cache.path()))->resolve(KernelRef::id(tx.id)).ok());
  const std::string path = cache.path() + "/" + tx.id + ".kernel";
  {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(-2, std::ios::end);
    file.put('X');
  }
  StoreOptions offline_options = test_options({gateway.url()}, cache.path());
  offline_options.offline = true;
  auto offline = make_store(offline_options)->resolve(KernelRef::id(tx.id));
  ASSERT_FALSE(offline.ok());
  EXPECT_EQ(offline.error().message, "offline: kernel " + tx.id + " is not in the cache " + cache.path() +
                                         " (corrupt cache file " + path + ": SHA-256 of the source differs from the stored hash)");

  // The corrupt file was removed; put it back corrupt and let an online store repair it.
  ASSERT_TRUE(make_store(test_options({gateway.url()}, cache.path()))->resolve(KernelRef::id(tx.id)).ok());
  { std::ofstream(path, std::ios::binary | std::ios::trunc) << "garbage"; }
  auto refetched = make_store(test_options({gateway.url()}, cache.path()))->resolve(KernelRef::id(tx.id));
  ASSERT_TRUE(refetched.ok()) << refetched.error().message;
  EXPECT_EQ(refetched->origin, Origin::gateway);
  EXPECT_EQ(refetched->source, kSource);
  EXPECT_EQ(gateway.count("GET", "/raw/" + tx.id), 3u);
  auto repaired = make_store(offline_options)->resolve(KernelRef::id(tx.id));
  ASSERT_TRUE(repaired.ok()) << repaired.error().message;
  EXPECT_EQ(repaired->source, kSource);
}

TEST(KernelStore, VerifyOffTakesBytesAsServedAndRequiredDoesNotReuseThem) {
  LoopbackGateway gateway;
  TempDir cache;
  const std::string id = random_id();
  gateway.set("/raw/" + id, CannedResponse{.body = kSource});
  StoreOptions off = test_options({gateway.url()}, cache.path());
  off.verify = VerifyPolicy::off;
  auto kernel = make_store(off)->resolve(KernelRef::id(id));
  ASSERT_TRUE(kernel.ok()) << kernel.error().message;
  EXPECT_EQ(kernel->verification, Verification::unverified);
  EXPECT_EQ(kernel->owner_address, "");
  EXPECT_EQ(kernel->describe(), id + " from " + gateway.url() + ", unverified (verification off)");

  auto required = make_store(test_options({gateway.url()}, cache.path()))->resolve(KernelRef::id(id));
  ASSERT_FALSE(required.ok());
  EXPECT_EQ(required.error().code, ErrorCode::verification_failed);
  EXPECT_EQ(required.error().message, "kernel " + id + ": no gateway could serve it: " + gateway.url() +
                                          ": cannot verify: GET /tx/" + id + " answered 404 and HEAD /raw/" + id +
                                          " names no root transaction (X-AR-IO-Root-Transaction-Id)");
}

TEST(KernelStore, OwnerAllowList) {
  LoopbackGateway gateway;
  TempDir cache;
  const auto mine = make_layer1_tx(SigningKey::rsa4096(), Layer1Spec{.data = kSource});
  const auto theirs = make_layer1_tx(SigningKey::rsa4096_other(), Layer1Spec{.data = kSource});
  publish_layer1(gateway, mine);
  publish_layer1(gateway, theirs);
  StoreOptions options = test_options({gateway.url()}, cache.path());
  options.allowed_owners = {owner_address(SigningKey::rsa4096().owner())};
  auto store = make_store(options);
  EXPECT_TRUE(store->resolve(KernelRef::id(mine.id)).ok());
  auto refused = store->resolve(KernelRef::id(theirs.id));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message, "kernel " + theirs.id + " is published by " +
                                         owner_address(SigningKey::rsa4096_other().owner()) +
                                         ", which is not among the allowed owners");
  // Also from the cache it filled meanwhile.
  EXPECT_FALSE(make_store(options)->resolve(KernelRef::id(theirs.id)).ok());

  options.verify = VerifyPolicy::off;
  auto contradictory = KernelStore::create(options);
  ASSERT_FALSE(contradictory.ok());
  EXPECT_EQ(contradictory.error().code, ErrorCode::invalid_argument);
}

TEST(KernelStore, ManyThreadsShareOneFetch) {
  LoopbackGateway gateway;
  TempDir cache;
  const auto tx = make_layer1_tx(SigningKey::rsa4096(), Layer1Spec{.data = kSource});
  publish_layer1(gateway, tx);
  auto store = make_store(test_options({gateway.url()}, cache.path()));
  std::vector<std::thread> threads;
  std::vector<std::string> sources(8);
  for (std::size_t i = 0; i < sources.size(); ++i) {
    threads.emplace_back([&, i] {
      auto kernel = store->resolve(KernelRef::id(tx.id));
      sources[i] = kernel.ok() ? kernel->source : "error: " + kernel.error().message;
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& source : sources) EXPECT_EQ(source, kSource);
  EXPECT_EQ(gateway.count("GET", "/raw/" + tx.id), 1u);
}

TEST(KernelStore, CreateRejectsBadOptions) {
  auto http = KernelStore::create(test_options({"http://arweave.net"}, ""));
  ASSERT_FALSE(http.ok());
  EXPECT_EQ(http.error().message, "gateway URL must be https (plain http only for loopback test gateways): http://arweave.net");
  auto none = KernelStore::create(test_options({}, ""));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace kem::store
