#include "signature.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include <memory>

namespace kem::store {
namespace {

struct PkeyFree { void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); } };
struct CtxFree { void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); } };
struct MdCtxFree { void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); } };
struct BnFree { void operator()(BIGNUM* p) const { BN_free(p); } };
struct BldFree { void operator()(OSSL_PARAM_BLD* p) const { OSSL_PARAM_BLD_free(p); } };
struct ParamFree { void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); } };
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

const unsigned char* u8(BytesView bytes) { return reinterpret_cast<const unsigned char*>(bytes.data()); }

Result<Pkey> rsa_public_key(BytesView modulus) {
  std::unique_ptr<BIGNUM, BnFree> n(BN_bin2bn(u8(modulus), static_cast<int>(modulus.size()), nullptr));
  std::unique_ptr<BIGNUM, BnFree> e(BN_new());
  std::unique_ptr<OSSL_PARAM_BLD, BldFree> builder(OSSL_PARAM_BLD_new());
  if (!n || !e || !builder || !BN_set_word(e.get(), 65537) ||
      !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
      !OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get())) {
    return make_error(ErrorCode::internal, "OpenSSL could not build RSA key parameters");
  }
  std::unique_ptr<OSSL_PARAM, ParamFree> params(OSSL_PARAM_BLD_to_param(builder.get()));
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0) {
    return make_error(ErrorCode::verification_failed, "owner is not a usable RSA modulus");
  }
  return Pkey(raw);
}

}  // namespace

Status verify_rsa_pss(BytesView modulus, BytesView message, BytesView signature) {
  if (modulus.empty() || static_cast<unsigned char>(modulus[0]) == 0) {
    return make_error(ErrorCode::verification_failed, "owner is not a usable RSA modulus");
  }
  auto key = rsa_public_key(modulus);
  if (!key) return key.take_error();
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> md(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by md
  if (!md || EVP_DigestVerifyInit(md.get(), &pctx, EVP_sha256(), nullptr, key->get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) <= 0) {
    return make_error(ErrorCode::internal, "OpenSSL could not set up RSA-PSS verification");
  }
  const int verdict = EVP_DigestVerify(md.get(), u8(signature), signature.size(), u8(message), message.size());
  // A failed check leaves entries on this thread's OpenSSL error queue; later calls must not see them.
  ERR_clear_error();
  if (verdict != 1) return make_error(ErrorCode::verification_failed, "RSA-PSS signature does not verify");
  return {};
}

Status verify_ed25519(BytesView public_key, BytesView message, BytesView signature) {
  if (public_key.size() != 32 || signature.size() != 64) {
    return make_error(ErrorCode::verification_failed, "ed25519 key or signature has the wrong size");
  }
  Pkey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, u8(public_key), public_key.size()));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> md(EVP_MD_CTX_new());
  if (!key || !md || EVP_DigestVerifyInit(md.get(), nullptr, nullptr, nullptr, key.get()) <= 0) {
    return make_error(ErrorCode::verification_failed, "owner is not a usable ed25519 public key");
  }
  const int verdict = EVP_DigestVerify(md.get(), u8(signature), signature.size(), u8(message), message.size());
  ERR_clear_error();
  if (verdict != 1) return make_error(ErrorCode::verification_failed, "ed25519 signature does not verify");
  return {};
}

}  // namespace kem::store
