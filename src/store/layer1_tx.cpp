#include "layer1_tx.h"

#include <nlohmann/json.hpp>

#include "base64url.h"
#include "deep_hash.h"
#include "hash.h"
#include "signature.h"

namespace kem::store {
namespace {

using nlohmann::json;

Error malformed(const std::string& what) {
  return make_error(ErrorCode::invalid_argument, "malformed transaction header: " + what);
}

Result<std::string> text_field(const json& header, const char* name) {
  auto it = header.find(name);
  if (it == header.end() || !it->is_string()) return malformed(std::string("field \"") + name + "\" missing or not a string");
  return it->get<std::string>();
}

Result<Bytes> binary_field(const json& header, const char* name) {
  auto text = text_field(header, name);
  if (!text) return text.take_error();
  auto bytes = base64url_decode(*text);
  if (!bytes) return malformed(std::string("field \"") + name + "\": " + bytes.error().message);
  return bytes;
}

bool is_decimal(const std::string& text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

Result<Layer1Tx> parse(const json& header) {
  if (!header.is_object()) return malformed("not a JSON object");
  Layer1Tx tx;
  auto format = header.find("format");
  if (format == header.end() || !format->is_number_integer()) return malformed("field \"format\" missing or not an integer");
  tx.format = format->get<int>();
  if (tx.format != 2) {
    return make_error(ErrorCode::verification_failed,
                      "unsupported transaction format " + std::to_string(tx.format) + " (only format 2 is verified)");
  }
  auto id = text_field(header, "id");
  auto last_tx = binary_field(header, "last_tx");
  auto owner = binary_field(header, "owner");
  auto target = binary_field(header, "target");
  auto quantity = text_field(header, "quantity");
  auto reward = text_field(header, "reward");
  auto data_size = text_field(header, "data_size");
  auto data_root = binary_field(header, "data_root");
  auto signature = binary_field(header, "signature");
  for (const Error* error : {id ? nullptr : &id.error(), last_tx ? nullptr : &last_tx.error(),
                             owner ? nullptr : &owner.error(), target ? nullptr : &target.error(),
                             quantity ? nullptr : &quantity.error(), reward ? nullptr : &reward.error(),
                             data_size ? nullptr : &data_size.error(), data_root ? nullptr : &data_root.error(),
                             signature ? nullptr : &signature.error()}) {
    if (error) return *error;
  }
  tx.id = *id;
  tx.last_tx = *last_tx;
  tx.owner = *owner;
  tx.target = *target;
  tx.quantity = *quantity;
  tx.reward = *reward;
  tx.data_size = *data_size;
  tx.data_root = *data_root;
  tx.signature = *signature;
  if (!is_decimal(tx.data_size)) return malformed("data_size \"" + tx.data_size + "\" is not a decimal number");

  auto tags = header.find("tags");
  if (tags == header.end() || !tags->is_array()) return malformed("field \"tags\" missing or not an array");
  for (const json& tag : *tags) {
    if (!tag.is_object()) return malformed("a tag is not an object");
    auto name = binary_field(tag, "name");
    if (!name) return name.take_error();
    auto value = binary_field(tag, "value");
    if (!value) return value.take_error();
    tx.tags.emplace_back(std::move(*name), std::move(*value));
  }
  return tx;
}

}  // namespace

Result<Layer1Tx> parse_layer1_tx(std::string_view text) {
  // nlohmann-json throws on malformed input and on allocation failure; neither may escape.
  try {
    const json header = json::parse(text.begin(), text.end());
    return parse(header);
  } catch (const std::exception& e) {
    return malformed(e.what());
  }
}

Bytes layer1_signature_message(const Layer1Tx& tx) {
  std::vector<DeepHashItem> tags;
  tags.reserve(tx.tags.size());
  for (const auto& [name, value] : tx.tags) {
    tags.push_back(DeepHashItem::of_list({DeepHashItem::of_blob(name), DeepHashItem::of_blob(value)}));
  }
  return deep_hash(DeepHashItem::of_list({
      DeepHashItem::of_blob(std::to_string(tx.format)),
      DeepHashItem::of_blob(tx.owner),
      DeepHashItem::of_blob(tx.target),
      DeepHashItem::of_blob(tx.quantity),
      DeepHashItem::of_blob(tx.reward),
      DeepHashItem::of_blob(tx.last_tx),
      DeepHashItem::of_list(std::move(tags)),
      DeepHashItem::of_blob(tx.data_size),
      DeepHashItem::of_blob(tx.data_root),
  }));
}

Status verify_layer1_header(const Layer1Tx& tx, std::string_view expected_id) {
  const Bytes signed_id = base64url_encode(sha256(tx.signature));
  if (signed_id != expected_id) {
    return make_error(ErrorCode::verification_failed,
                      "transaction id does not match its signature: SHA-256(signature) is " + signed_id +
                          ", expected " + std::string(expected_id));
  }
  Status signature = verify_rsa_pss(tx.owner, layer1_signature_message(tx), tx.signature);
  if (!signature) {
    return make_error(ErrorCode::verification_failed,
                      "transaction " + signed_id + ": " + signature.error().message + " for owner " +
                          owner_address(tx.owner) + " over its header fields");
  }
  return {};
}

Result<ChunkingRule> verify_layer1_data(const Layer1Tx& tx, BytesView data) {
  if (tx.data_size != std::to_string(data.size())) {
    return make_error(ErrorCode::verification_failed, "data size " + std::to_string(data.size()) +
                                                          " does not match the signed data_size " + tx.data_size);
  }
  for (ChunkingRule rule : {ChunkingRule::balanced, ChunkingRule::fixed}) {
    if (data_root(data, rule) == tx.data_root) return rule;
  }
  return make_error(ErrorCode::verification_failed,
                    "data_root mismatch: the bytes hash to " + base64url_encode(data_root(data, ChunkingRule::balanced)) +
                        " (balanced chunks) / " + base64url_encode(data_root(data, ChunkingRule::fixed)) +
                        " (fixed chunks), the transaction signs " + base64url_encode(tx.data_root));
}

}  // namespace kem::store
