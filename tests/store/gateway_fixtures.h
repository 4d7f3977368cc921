// Puts signed fixtures on a loopback gateway the way real gateways serve them: layer-1
// transactions at /raw/<id> and /tx/<id>; bundled data items at /raw/<id> with the ar.io
// root headers, and their bundle at /raw/<root> answering range requests.
#pragma once

#include <memory>
#include <string>

#include "kem/kernel_store.h"
#include "loopback_gateway.h"
#include "signing_fixtures.h"

namespace kem::store::testing {

void publish_layer1(LoopbackGateway& gateway, const Layer1Fixture& tx);

struct RootHeaderPlacement {
  bool on_get = true;  // ar.io sends them on GET too; false: only HEAD carries them
  long item_offset_shift = 0;  // to misplace the offsets
  long data_offset_shift = 0;
};

// Serves bundle.bytes as the data of `root_id` and item `index` of `items` at /raw/<its id>.
void publish_bundled(LoopbackGateway& gateway, const std::string& root_id, const BundleFixture& bundle,
                     const std::vector<DataItemFixture>& items, std::size_t index, RootHeaderPlacement placement = {});

// A fresh valid-looking ID (random 32 bytes).
std::string random_id();

// A small valid kernel.
inline const std::string kWgslSource = "@compute @workgroup_size(1)\nfn main() {}\n";

// KernelStore::create, failing the calling test (and returning null) when it fails.
std::unique_ptr<KernelStore> make_store(const StoreOptions& options);

// Options for tests: short timeouts, long back-off (so it can be observed), a private cache.
StoreOptions test_options(const std::vector<std::string>& gateways, const std::string& cache_dir);

}  // namespace kem::store::testing
