#include "sandbox/kernel_key.h"

#include <openssl/evp.h>

#include <memory>
#include <string>

#include "wgsl/overrides.h"

namespace kem::sandbox {

KernelKey kernel_key(const KernelRequest& request, bool metered) {
  KernelKey key{};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  // Each part with its length first, so that no two different requests feed the same bytes.
  auto part = [&](std::string_view bytes) {
    const uint64_t n = bytes.size();
    EVP_DigestUpdate(ctx.get(), &n, sizeof n);
    EVP_DigestUpdate(ctx.get(), bytes.data(), bytes.size());
  };
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  part(request.source);
  part(request.entry);
  part(metered ? "metered" : "unmetered");
  part(overrides_cache_key(request.overrides));  // the same for the same values in any order
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), key.data(), &length);
  return key;
}

}  // namespace kem::sandbox
