// KernelStore against tampered fixtures and misbehaving gateways: every rejection names what
// failed and which gateways were tried; a sick first gateway hands over to the second.
#include <gtest/gtest.h>

#include <functional>

#include <nlohmann/json.hpp>

#include "base64url.h"
#include "gateway_fixtures.h"
#include "hash.h"
#include "kem/kernel_store.h"
#include "temp_dir.h"

namespace kem::store {
namespace {

using namespace testing;
using namespace std::chrono_literals;

const Bytes kSource = kWgslSource;

// Resolves an ID that must fail verification; returns the message.
std::string rejection(LoopbackGateway& gateway, const std::string& id) {
  TempDir cache;
  auto kernel = make_store(test_options({gateway.url()}, cache.path()))->resolve(KernelRef::id(id));
  EXPECT_FALSE(kernel.ok());
  if (kernel.ok()) return "accepted";
  EXPECT_EQ(kernel.error().code, ErrorCode::verification_failed) << kernel.error().message;
  EXPECT_EQ(kernel.error().message.rfind("kernel " + id + ": no gateway could serve it: " + gateway.url() + ": ", 0), 0u)
      << kernel.error().message;
  return kernel.error().message;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(KernelStoreRejects, Layer1FlippedDataByte) {
  LoopbackGateway gateway;
  auto tx = make_layer1_tx(SigningKey::rsa4096(), Layer1Spec{.data = kSource});
  tx.data[5] ^= 1;
  publish_layer1(gateway, tx);
  EXPECT_TRUE(contains(rejection(gateway, tx.id), "transaction " + tx.id + ": data_root mismatch"));
}

TEST(KernelStoreRejects, Layer1ChangedTagSwappedOwnerAndSwappedSignature) {
  LoopbackGateway gateway;
  const auto tx = make_layer1_tx(SigningKey::rsa4096(), Layer1Spec{.data = kSource});
  const auto other = nlohmann::json::parse(make_layer1_tx(SigningKey::rsa4096_other(), Layer1Spec{.data = kSource}).header_json);
  const auto original = nlohmann::json::parse(tx.header_json);

  auto tag = original;
  tag["tags"][0]["value"] = base64url_encode("application/octet-stream");
  publish_layer1(gateway, Layer1Fixture{tx.id, tag.dump(), tx.data});
  EXPECT_TRUE(contains(rejection(gateway, tx.id), "RSA-PSS signature does not verify"));

  auto owner = original;
  owner["owner"] = other["owner"];
  publish_layer1(gateway, Layer1Fixture{tx.id, owner.dump(), tx.data});
  EXPECT_TRUE(contains(rejection(gateway, tx.id), "signature does not verify for owner " +
                                                      owner_address(SigningKey::rsa4096_other().owner())));

  auto signature = original;
  signature["signature"] = other["signature"];
  publish_layer1(gateway, Layer1Fixture{tx.id, signature.dump(), tx.data});
  EXPECT_TRUE(contains(rejection(gateway, tx.id), "transaction id does not match its signature"));
}

TEST(KernelStoreRejects, Layer1WrongChunkingForTheSignedSize) {
  // Signed over 256 KiB + 1000 bytes, served one byte short: neither rule's root matches.
  LoopbackGateway gateway;
  Bytes data(kMaxChunkSize + 1000, 'q');
  auto tx = make_layer1_tx(SigningKey::rsa4096(), Layer1Spec{.data = data, .rule = ChunkingRule::fixed});
  tx.data.pop_back();
  publish_layer1(gateway, tx);
  TempDir cache;
  StoreOptions options = test_options({gateway.url()}, cache.path());
  options.max_source_bytes = 1 << 20;
  auto kernel = make_store(options)->resolve(KernelRef::id(tx.id));
  ASSERT_FALSE(kernel.ok());
  EXPECT_TRUE(contains(kernel.error().message, "data size 263143 does not match the signed data_size 263144"));
}

struct BundleCase {
  std::vector<DataItemFixture> items;
  BundleFixture bundle;
  std::string root = random_id();
};

BundleCase bundle_of(const SigningKey& key) {
  BundleCase c;
  c.items = {make_data_item(SigningKey::ed25519(), DataItemSpec{.data = "// first\n" + kSource}),
             make_data_item(key, DataItemSpec{.data = kSource, .tags = {{"Content-Type", "text/wgsl"}, {"Kernel", "add"}}})};
  c.bundle = make_bundle(c.items);
  return c;
}

TEST(KernelStoreRejects, DataItemFlippedDataByte) {
  LoopbackGateway gateway;
  BundleCase c = bundle_of(SigningKey::rsa4096());
  publish_bundled(gateway, c.root, c.bundle, c.items, 1);
  Bytes data = c.items[1].bytes.substr(c.items[1].header_size);
  data[0] ^= 1;
  gateway.set("/raw/" + c.items[1].id,
              CannedResponse{.headers = {{"X-AR-IO-Root-Transaction-Id", c.root},
                                         {"X-AR-IO-Root-Data-Item-Offset", std::to_string(c.bundle.item_offsets[1])},
                                         {"X-AR-IO-Root-Data-Offset", std::to_string(c.bundle.item_offsets[1] + c.items[1].header_size)}},
                             .body = data});
  EXPECT_TRUE(contains(rejection(gateway, c.items[1].id), "data item " + c.items[1].id + ": RSA-PSS signature does not verify"));
}

TEST(KernelStoreRejects, DataItemChangedTag) {
  LoopbackGateway gateway;
  BundleCase c = bundle_of(SigningKey::ed25519());
  const std::size_t at = c.bundle.bytes.find("add", c.bundle.item_offsets[1]);
  ASSERT_NE(at, Bytes::npos);
  c.bundle.bytes[at] = 'm';
  publish_bundled(gateway, c.root, c.bundle, c.items, 1);
  EXPECT_TRUE(contains(rejection(gateway, c.items[1].id), "ed25519 signature does not verify"));
}

TEST(KernelStoreRejects, DataItemSwappedOwnerOrSignature) {
  LoopbackGateway gateway;
  BundleCase c = bundle_of(SigningKey::rsa4096());
  const auto other = make_data_item(SigningKey::rsa4096_other(), DataItemSpec{.data = kSource});
  const std::size_t item = c.bundle.item_offsets[1];
  BundleCase owner = c;
  owner.bundle.bytes.replace(item + 2 + 512, 512, other.bytes.substr(2 + 512, 512));
  publish_bundled(gateway, owner.root, owner.bundle, owner.items, 1);
  EXPECT_TRUE(contains(rejection(gateway, c.items[1].id), "signature does not verify for owner " +
                                                             owner_address(SigningKey::rsa4096_other().owner())));
  BundleCase signature = c;
  signature.bundle.bytes.replace(item + 2, 512, other.bytes.substr(2, 512));
  publish_bundled(gateway, signature.root, signature.bundle, signature.items, 1);
  EXPECT_TRUE(contains(rejection(gateway, c.items[1].id), "data item id does not match its signature"));
}

TEST(KernelStoreRejects, WrongRootOffsets) {
  LoopbackGateway gateway;
  BundleCase c = bundle_of(SigningKey::rsa4096());
  publish_bundled(gateway, c.root, c.bundle, c.items, 1, {.item_offset_shift = 1, .data_offset_shift = 1});
  EXPECT_TRUE(contains(rejection(gateway, c.items[1].id),
                       "data item header at offset " + std::to_string(c.bundle.item_offsets[1] + 1) + " of " + c.root));
  // Offsets that point at the other item: a valid header, but not this ID's.
  const long back = static_cast<long>(c.bundle.item_offsets[1]) - static_cast<long>(c.bundle.item_offsets[0]);
  const long data_back = static_cast<long>(c.bundle.item_offsets[1] + c.items[1].header_size) -
                         static_cast<long>(c.bundle.item_offsets[0] + c.items[0].header_size);
  publish_bundled(gateway, c.root, c.bundle, c.items, 1, {.item_offset_shift = -back, .data_offset_shift = -data_back});
  EXPECT_TRUE(contains(rejection(gateway, c.items[1].id), "data item id does not match its signature"));
  // Offsets that frame nothing.
  publish_bundled(gateway, c.root, c.bundle, c.items, 1, {.data_offset_shift = -5000});
  EXPECT_TRUE(contains(rejection(gateway, c.items[1].id), "do not frame a data item header"));
}

// A working second gateway with a valid layer-1 kernel.
struct TwoGateways {
  LoopbackGateway first, second;
  TempDir cache;
  Layer1Fixture tx = make_layer1_tx(SigningKey::rsa4096(), Layer1Spec{.data = kSource});
  TwoGateways() { publish_layer1(second, tx); }
  std::unique_ptr<KernelStore> store() { return make_store(test_options({first.url(), second.url()}, cache.path())); }
};

TEST(KernelStoreGateways, FirstGatewayFailuresFallThroughToTheSecond) {
  struct Case {
    const char* name;
    CannedResponse response;
    bool backs_off;
  };
  const Case cases[] = {
      {"404", CannedResponse{.status = 404}, false},
      {"202", CannedResponse{.status = 202}, false},
      {"429", CannedResponse{.status = 429, .headers = {{"Retry-After", "30"}}}, true},
      {"500", CannedResponse{.status = 500}, true},
      {"502", CannedResponse{.status = 502}, true},
      {"gzip", CannedResponse{.headers = {{"Content-Encoding", "gzip"}}, .body = "\x1f\x8b\x08"}, false},
      {"stall", CannedResponse{.body = kSource, .stall = 3s}, true},
      {"truncated", CannedResponse{.body = kSource.substr(0, 10), .declared_length = kSource.size()}, true},
      {"oversized", CannedResponse{.body = kSource, .declared_length = 50u << 20}, false},
  };
  for (const Case& c : cases) {
    TwoGateways g;
    g.first.set("/raw/" + g.tx.id, c.response);
    auto store = g.store();
    auto kernel = store->resolve(KernelRef::id(g.tx.id));
    ASSERT_TRUE(kernel.ok()) << c.name << ": " << kernel.error().message;
    EXPECT_EQ(kernel->gateway, g.second.url()) << c.name;
    EXPECT_EQ(kernel->source, kSource) << c.name;
    // A second ID: a backing-off first gateway is not even asked.
    const auto next = make_layer1_tx(SigningKey::rsa4096(), Layer1Spec{.data = "// next\n" + kSource});
    publish_layer1(g.second, next);
    ASSERT_TRUE(store->resolve(KernelRef::id(next.id)).ok()) << c.name;
    EXPECT_EQ(g.first.count("GET", "/raw/" + next.id), c.backs_off ? 0u : 1u) << c.name;
  }
}

TEST(KernelStoreGateways, EveryFailureNamesEachGatewayAndWhy) {
  LoopbackGateway first, second;
  TempDir cache;
  const std::string id = random_id();
  first.set("/raw/" + id, CannedResponse{.status = 301, .headers = {{"Location", "/raw/" + id}}});
  second.set("/raw/" + id, CannedResponse{.status = 503});
  auto store = make_store(test_options({first.url(), second.url()}, cache.path()));
  auto kernel = store->resolve(KernelRef::id(id));
  ASSERT_FALSE(kernel.ok());
  EXPECT_EQ(kernel.error().code, ErrorCode::unavailable);
  EXPECT_EQ(kernel.error().message, "kernel " + id + ": no gateway could serve it: " + first.url() + ": GET /raw/" + id +
                                        ": more than 5 redirects (last to " + first.url() + "/raw/" + id + "); " +
                                        second.url() + ": GET /raw/" + id + ": HTTP 503");
  // The 503 makes the second back off, and says so; the first's redirect loop was its answer
  // for this one ID, so it is asked again.
  auto again = store->resolve(KernelRef::id(id));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::unavailable);
  EXPECT_EQ(first.count("GET", "/raw/" + id), 12u);
  EXPECT_TRUE(contains(again.error().message, second.url() + ": skipped, backing off for ")) << again.error().message;
  EXPECT_TRUE(contains(again.error().message, "ms after GET /raw/" + id + ": HTTP 503")) << again.error().message;
  // Unavailable with a gateway backing off: the error says when to try again (test back-off: 60 s).
  EXPECT_GT(again.error().retry_after, 59s);
  EXPECT_LE(again.error().retry_after, 60s);
}

// What one ID gets wrong (not found, a failed proof, a redirect loop or a forbidden redirect,
// a compressed or oversized body) never takes the gateway away from the other IDs; what says
// the gateway itself is in trouble (429, 5xx, a timeout, a refused connection) does.
TEST(KernelStoreGateways, OnlyTransportFailuresBackOffTheGateway) {
  // Each case serves its bad ID on the gateway and returns it.
  using Publish = std::function<std::string(LoopbackGateway&)>;
  struct Case {
    const char* name;
    Publish publish_bad;
    ErrorCode code;
    bool backs_off;
  };
  const auto canned = [](CannedResponse response) -> Publish {
    return [response](LoopbackGateway& g) {
      const std::string id = random_id();
      g.set("/raw/" + id, response);
      return id;
    };
  };
  const Publish tampered = [](LoopbackGateway& g) {
    auto bad = make_layer1_tx(SigningKey::rsa4096(), Layer1Spec{.data = kSource});
    bad.data[5] ^= 1;
    publish_layer1(g, bad);
    return bad.id;
  };
  const Publish redirect_loop = [](LoopbackGateway& g) {
    const std::string id = random_id();
    g.set("/raw/" + id, CannedResponse{.status = 301, .headers = {{"Location", "/raw/" + id}}});
    return id;
  };
  const Case cases[] = {
      {"404", canned(CannedResponse{.status = 404}), ErrorCode::not_found, false},
      {"tampered", tampered, ErrorCode::verification_failed, false},
      {"redirect loop", redirect_loop, ErrorCode::unavailable, false},
      {"redirect to a private address",
       canned(CannedResponse{.status = 302, .headers = {{"Location", "https://10.0.0.1/raw/x"}}}), ErrorCode::unavailable, false},
      {"gzip", canned(CannedResponse{.headers = {{"Content-Encoding", "gzip"}}, .body = "\x1f\x8b\x08"}),
       ErrorCode::verification_failed, false},
      {"oversized", canned(CannedResponse{.body = kSource, .declared_length = 50u << 20}), ErrorCode::limit_exceeded, false},
      {"429", canned(CannedResponse{.status = 429}), ErrorCode::unavailable, true},
      {"500", canned(CannedResponse{.status = 500}), ErrorCode::unavailable, true},
      {"stall", canned(CannedResponse{.body = kSource, .stall = 3s}), ErrorCode::unavailable, true},
  };
  for (const Case& c : cases) {
    LoopbackGateway gateway;
    TempDir cache;
    const std::string bad_id = c.publish_bad(gateway);
    const auto good = make_layer1_tx(SigningKey::rsa4096(), Layer1Spec{.data = "// good\n" + kSource});
    publish_layer1(gateway, good);
    auto store = make_store(test_options({gateway.url()}, cache.path()));
    auto bad = store->resolve(KernelRef::id(bad_id));
    ASSERT_FALSE(bad.ok()) << c.name;
    EXPECT_EQ(bad.error().code, c.code) << c.name << ": " << bad.error().message;
    auto other = store->resolve(KernelRef::id(good.id));
    if (c.backs_off) {
      ASSERT_FALSE(other.ok()) << c.name;
      EXPECT_EQ(other.error().code, ErrorCode::unavailable) << c.name;
      EXPECT_TRUE(contains(other.error().message, gateway.url() + ": skipped, backing off for "))
          << c.name << ": " << other.error().message;
      EXPECT_EQ(gateway.count("GET", "/raw/" + good.id), 0u) << c.name;
      EXPECT_GT(other.error().retry_after, 0ms) << c.name;
    } else {
      ASSERT_TRUE(other.ok()) << c.name << ": " << other.error().message;
      EXPECT_EQ(other->source, "// good\n" + kSource) << c.name;
    }
  }
}

// A refused connection is a transport failure: the gateway backs off.
TEST(KernelStoreGateways, ARefusedConnectionBacksOffTheGateway) {
  LoopbackGateway down;
  const std::string url = down.url();
  down.stop();
  TempDir cache;
  auto store = make_store(test_options({url}, cache.path()));
  auto first = store->resolve(KernelRef::id(random_id()));
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, ErrorCode::unavailable);
  EXPECT_TRUE(contains(first.error().message, "connection failed: ")) << first.error().message;
  auto second = store->resolve(KernelRef::id(random_id()));
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(contains(second.error().message, url + ": skipped, backing off for ")) << second.error().message;
}

TEST(KernelStoreGateways, NotFoundEverywhereIsRememberedBriefly) {
  LoopbackGateway first, second;
  TempDir cache;
  const std::string id = random_id();
  auto store = make_store(test_options({first.url(), second.url()}, cache.path()));
  auto kernel = store->resolve(KernelRef::id(id));
  ASSERT_FALSE(kernel.ok());
  EXPECT_EQ(kernel.error().code, ErrorCode::not_found);
  EXPECT_EQ(kernel.error().message, "kernel " + id + ": no gateway could serve it: " + first.url() + ": GET /raw/" + id +
                                        ": HTTP 404 not found; " + second.url() + ": GET /raw/" + id + ": HTTP 404 not found");
  auto again = store->resolve(KernelRef::id(id));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().message, kernel.error().message + " (remembered for up to 60 s)");
  EXPECT_EQ(first.count("GET", "/raw/" + id), 1u);
}

TEST(KernelStoreGateways, AllGatewaysDownWithAWarmCache) {
  TwoGateways g;
  g.first.set("/raw/" + g.tx.id, CannedResponse{.status = 404});
  ASSERT_TRUE(g.store()->resolve(KernelRef::id(g.tx.id)).ok());
  g.first.stop();
  g.second.stop();
  auto kernel = g.store()->resolve(KernelRef::id(g.tx.id));
  ASSERT_TRUE(kernel.ok()) << kernel.error().message;
  EXPECT_EQ(kernel->origin, Origin::disk_cache);
  EXPECT_EQ(kernel->gateway, g.second.url());
  EXPECT_EQ(kernel->source, kSource);

  // And with a cold cache the same outage is an "unavailable" naming both gateways.
  TempDir cold;
  auto none = make_store(test_options({g.first.url(), g.second.url()}, cold.path()))->resolve(KernelRef::id(g.tx.id));
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::unavailable);
  EXPECT_TRUE(contains(none.error().message, g.first.url() + ": GET /raw/" + g.tx.id + ": connection failed"));
  EXPECT_TRUE(contains(none.error().message, g.second.url() + ": GET /raw/" + g.tx.id + ": connection failed"));
}

TEST(KernelStoreGateways, OversizedKernelIsALimitError) {
  LoopbackGateway gateway;
  TempDir cache;
  const std::string id = random_id();
  gateway.set("/raw/" + id, CannedResponse{.body = kSource, .declared_length = (1u << 20) + 1});
  auto kernel = make_store(test_options({gateway.url()}, cache.path()))->resolve(KernelRef::id(id));
  ASSERT_FALSE(kernel.ok());
  EXPECT_EQ(kernel.error().code, ErrorCode::limit_exceeded);
  EXPECT_TRUE(contains(kernel.error().message, "Content-Length 1048577 is over the limit of 1048576 bytes"));
}

}  // namespace
}  // namespace kem::store
