#include "gateway_fixtures.h"

#include <gtest/gtest.h>

#include <random>

#include "ans104.h"
#include "base64url.h"

namespace kem::store::testing {

void publish_layer1(LoopbackGateway& gateway, const Layer1Fixture& tx) {
  gateway.set("/raw/" + tx.id, CannedResponse{.headers = {{"Content-Type", "text/plain"}}, .body = tx.data});
  gateway.set("/tx/" + tx.id, CannedResponse{.headers = {{"Content-Type", "application/json"}}, .body = tx.header_json});
}

void publish_bundled(LoopbackGateway& gateway, const std::string& root_id, const BundleFixture& bundle,
                     const std::vector<DataItemFixture>& items, std::size_t index, RootHeaderPlacement placement) {
  const DataItemFixture& item = items.at(index);
  const std::size_t item_offset = bundle.item_offsets.at(index);
  auto header_size = parse_data_item_header(item.bytes).value().size;
  std::vector<std::pair<std::string, std::string>> headers = {
      {"X-AR-IO-Root-Transaction-Id", root_id},
      {"X-AR-IO-Root-Data-Item-Offset", std::to_string(static_cast<long>(item_offset) + placement.item_offset_shift)},
      {"X-AR-IO-Root-Data-Offset", std::to_string(static_cast<long>(item_offset + header_size) + placement.data_offset_shift)},
      // Claims a gateway may make; the store must not take them as proof.
      {"X-AR-IO-Verified", "true"},
  };
  const Bytes data = item.bytes.substr(header_size);
  const std::string path = "/raw/" + item.id;
  if (placement.on_get) {
    gateway.set(path, CannedResponse{.headers = headers, .body = data});
  } else {
    gateway.set(path, CannedResponse{.body = data});
    gateway.set("HEAD " + path, CannedResponse{.headers = headers, .body = data});
  }
  gateway.set("/raw/" + root_id, CannedResponse{.body = bundle.bytes, .ranges = true});
}

std::string random_id() {
  static std::mt19937_64 random(std::random_device{}());
  Bytes bytes;
  for (int i = 0; i < 32; ++i) bytes += static_cast<char>(random() & 0xff);
  return base64url_encode(bytes);
}

std::unique_ptr<KernelStore> make_store(const StoreOptions& options) {
  auto store = KernelStore::create(options);
  EXPECT_TRUE(store.ok()) << store.error().message;
  return store.ok() ? std::move(*store) : nullptr;
}

StoreOptions test_options(const std::vector<std::string>& gateways, const std::string& cache_dir) {
  using namespace std::chrono_literals;
  StoreOptions options;
  options.gateways = gateways;
  options.cache_dir = cache_dir;
  options.connect_timeout = 500ms;
  options.request_timeout = 800ms;
  options.backoff_initial = 60s;
  options.backoff_max = 120s;
  options.negative_ttl = 60s;
  return options;
}

}  // namespace kem::store::testing
