#include "gateway_fetch.h"

#include <charconv>

#include "ans104.h"
#include "hash.h"
#include "layer1_tx.h"
#include "source_file.h"

namespace kem::store {
namespace {

constexpr std::size_t kMaxTxHeaderBytes = 256 * 1024;  // a format-2 header with its 2 KiB of tags fits many times
// ANS-104 allows 128 tags of up to 1 KiB names and 3 KiB values; signatures and keys add little.
constexpr std::size_t kMaxDataItemHeaderBytes = 1024 * 1024;

GatewayOutcome failure(ErrorCode code, std::string message) {
  return GatewayOutcome{std::nullopt, make_error(code, std::move(message)), false, {}};
}

// The exchange did not complete (timeout, refused, reset, truncated): the gateway, not the
// ID, is in trouble, so it pauses. What http_fetch reports about the content (over the size
// limit, compressed) is about this ID only, and does not.
GatewayOutcome transport_failure(const std::string& what, const Error& error) {
  GatewayOutcome outcome = failure(error.code, what + ": " + error.message);
  outcome.back_off = error.code == ErrorCode::timeout || error.code == ErrorCode::unavailable;
  return outcome;
}

std::chrono::milliseconds retry_after(const HttpResponse& response) {
  const auto value = response.header("retry-after");
  unsigned seconds = 0;
  if (value && std::from_chars(value->data(), value->data() + value->size(), seconds).ec == std::errc()) {
    return std::chrono::seconds(std::min(seconds, 3600u));
  }
  return {};
}

// A status other than the one wanted: 404 and 202 send us to the next gateway, 429 and 5xx
// do too and make this gateway pause. A redirect not followed is this URL's answer: the
// next gateway, no pause (one ID must not take the gateway away from every other ID).
GatewayOutcome status_failure(const std::string& what, const HttpResponse& response) {
  const long status = response.status;
  if (!response.redirect_refused.empty()) return failure(ErrorCode::unavailable, what + ": " + response.redirect_refused);
  if (status == 404) return failure(ErrorCode::not_found, what + ": HTTP 404 not found");
  if (status == 202) return failure(ErrorCode::not_found, what + ": HTTP 202 (accepted, not yet available)");
  GatewayOutcome outcome = failure(ErrorCode::unavailable, what + ": HTTP " + std::to_string(status));
  if (status == 429 || status >= 500) {
    outcome.back_off = true;
    outcome.retry_after = retry_after(response);
  }
  return outcome;
}

bool parse_offset(const std::optional<std::string>& text, uint64_t& out) {
  if (!text || text->empty()) return false;
  const char* end = text->data() + text->size();
  const auto [stop, error] = std::from_chars(text->data(), end, out);
  return error == std::errc() && stop == end;
}

struct RootHeaders {
  std::string root;
  uint64_t item_offset = 0;
  uint64_t data_offset = 0;
};

std::optional<RootHeaders> root_headers(const HttpResponse& response, const std::string& id) {
  RootHeaders headers;
  auto root = response.header("x-ar-io-root-transaction-id");
  if (!root || root->empty() || *root == id) return std::nullopt;  // no bundle, or the item is itself layer 1
  headers.root = *root;
  if (!parse_offset(response.header("x-ar-io-root-data-item-offset"), headers.item_offset) ||
      !parse_offset(response.header("x-ar-io-root-data-offset"), headers.data_offset)) {
    headers.item_offset = headers.data_offset = 0;  // unusable offsets: reported by prove_ans104
  }
  return headers;
}

GatewayOutcome prove_ans104(const std::string& gateway, const std::string& id, const RootHeaders& root,
                            const Bytes& data, const FetchSettings& settings) {
  if (!is_arweave_id(root.root)) {
    return failure(ErrorCode::verification_failed, "X-AR-IO-Root-Transaction-Id \"" + root.root + "\" is not an ID");
  }
  if (root.data_offset <= root.item_offset || root.data_offset - root.item_offset > kMaxDataItemHeaderBytes) {
    return failure(ErrorCode::verification_failed,
                   "X-AR-IO-Root offsets (data item " + std::to_string(root.item_offset) + ", data " +
                       std::to_string(root.data_offset) + ") do not frame a data item header");
  }
  const uint64_t header_size = root.data_offset - root.item_offset;
  const std::string what = "GET /raw/" + root.root + " bytes " + std::to_string(root.item_offset) + "-" +
                           std::to_string(root.data_offset - 1);
  HttpLimits limits = settings.limits;
  limits.max_body = static_cast<std::size_t>(header_size);
  auto response = http_fetch({gateway + "/raw/" + root.root, false, std::pair{root.item_offset, root.data_offset - 1}}, limits);
  if (!response) return transport_failure(what, response.error());
  if (response->status != 206) {
    if (response->status == 200) return failure(ErrorCode::unavailable, what + ": the gateway ignored the range request");
    return status_failure(what, *response);
  }
  if (response->body.size() != header_size) {
    return failure(ErrorCode::verification_failed, what + ": got " + std::to_string(response->body.size()) + " bytes");
  }
  auto header = parse_data_item_header(response->body);
  if (!header) {
    return failure(ErrorCode::verification_failed,
                   "data item header at offset " + std::to_string(root.item_offset) + " of " + root.root + ": " +
                       header.error().message);
  }
  if (header->size != header_size) {
    return failure(ErrorCode::verification_failed,
                   "data item header at offset " + std::to_string(root.item_offset) + " of " + root.root + " is " +
                       std::to_string(header->size) + " bytes, the root offsets frame " + std::to_string(header_size));
  }
  if (Status verified = verify_data_item(*header, data, id); !verified) {
    return failure(ErrorCode::verification_failed, verified.error().message);
  }
  return GatewayOutcome{FetchedKernel{data, owner_address(header->owner), Verification::ans104}, {}, false, {}};
}

GatewayOutcome prove_layer1(const std::string& id, const HttpResponse& tx_response, const Bytes& data) {
  auto tx = parse_layer1_tx(tx_response.body);
  if (!tx) return failure(ErrorCode::verification_failed, "GET /tx/" + id + ": " + tx.error().message);
  if (Status header = verify_layer1_header(*tx, id); !header) {
    return failure(ErrorCode::verification_failed, header.error().message);
  }
  if (auto rule = verify_layer1_data(*tx, data); !rule) {
    return failure(ErrorCode::verification_failed, "transaction " + id + ": " + rule.error().message);
  }
  return GatewayOutcome{FetchedKernel{data, owner_address(tx->owner), Verification::layer1_tx}, {}, false, {}};
}

GatewayOutcome prove(const std::string& gateway, const std::string& id, const HttpResponse& raw,
                     const FetchSettings& settings) {
  if (auto root = root_headers(raw, id)) return prove_ans104(gateway, id, *root, raw.body, settings);

  HttpLimits limits = settings.limits;
  limits.max_body = kMaxTxHeaderBytes;
  const std::string tx_what = "GET /tx/" + id;
  auto tx = http_fetch({gateway + "/tx/" + id}, limits);
  if (!tx) return transport_failure(tx_what, tx.error());
  if (tx->status == 200) return prove_layer1(id, *tx, raw.body);
  if (tx->status != 404) return status_failure(tx_what, *tx);

  // Not a layer-1 transaction here: perhaps a data item, which ar.io gateways locate on HEAD.
  const std::string head_what = "HEAD /raw/" + id;
  auto head = http_fetch({gateway + "/raw/" + id, true}, limits);
  if (!head) return transport_failure(head_what, head.error());
  if (head->status != 200) return status_failure(head_what, *head);
  if (auto root = root_headers(*head, id)) return prove_ans104(gateway, id, *root, raw.body, settings);
  return failure(ErrorCode::verification_failed,
                 "cannot verify: GET /tx/" + id + " answered 404 and HEAD /raw/" + id +
                     " names no root transaction (X-AR-IO-Root-Transaction-Id)");
}

}  // namespace

GatewayOutcome fetch_from_gateway(const std::string& gateway, const std::string& id, const FetchSettings& settings) {
  HttpLimits limits = settings.limits;
  limits.max_body = settings.max_source_bytes;
  const std::string what = "GET /raw/" + id;
  auto raw = http_fetch({gateway + "/raw/" + id}, limits);
  if (!raw) return transport_failure(what, raw.error());
  if (raw->status != 200) return status_failure(what, *raw);

  GatewayOutcome outcome = settings.verify == VerifyPolicy::off
                               ? GatewayOutcome{FetchedKernel{raw->body, {}, Verification::unverified}, {}, false, {}}
                               : prove(gateway, id, *raw, settings);
  if (outcome.kernel) {
    if (Status text = check_source(outcome.kernel->source, settings.max_source_bytes, "kernel " + id); !text) {
      return failure(text.error().code, text.error().message);
    }
  }
  return outcome;
}

}  // namespace kem::store
