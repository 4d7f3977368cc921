// One gateway's attempt at an ID: GET /raw/<id> for the bytes, then the proof that they are
// the ID's bytes: a layer-1 header from GET /tx/<id>, or else an ANS-104 data item header
// located through the ar.io root headers (X-AR-IO-Root-Transaction-Id, -Data-Item-Offset,
// -Data-Offset, on GET or HEAD /raw/<id>) and read by a range request on /raw/<root>. Every
// proof is checked here; a gateway's own "verified" or digest headers are never trusted.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "bytes.h"
#include "http_client.h"
#include "kem/kernel_store.h"

namespace kem::store {

struct FetchedKernel {
  Bytes source;
  std::string owner_address;  // empty when unverified
  Verification verification = Verification::unverified;
};

struct GatewayOutcome {
  std::optional<FetchedKernel> kernel;  // set on success
  Error error;                          // otherwise why this gateway failed
  bool back_off = false;                // 429, 5xx, timeout, broken connection: never for one ID's content
  std::chrono::milliseconds retry_after{0};
};

struct FetchSettings {
  VerifyPolicy verify = VerifyPolicy::required;
  std::size_t max_source_bytes = 1 << 20;
  HttpLimits limits;  // max_body is set per request
};

GatewayOutcome fetch_from_gateway(const std::string& gateway, const std::string& id, const FetchSettings& settings);

}  // namespace kem::store
