#include "ans104.h"

#include <string>

#include "base64url.h"
#include "deep_hash.h"
#include "hash.h"
#include "signature.h"

namespace kem::store {
namespace {

constexpr SignatureScheme kSchemes[] = {
    {1, "arweave (RSA-PSS 4096)", 512, 512, true},
    {2, "ed25519", 64, 32, true},
    {3, "ethereum (secp256k1)", 65, 65, false},
    {4, "solana (ed25519)", 64, 32, false},
    {5, "injectedAptos", 64, 32, false},
    {6, "multiAptos", 2052, 1025, false},
    {7, "typedEthereum", 65, 42, false},
};

uint64_t read_le(BytesView bytes, std::size_t pos, std::size_t width) {
  uint64_t value = 0;
  for (std::size_t i = 0; i < width; ++i) value |= uint64_t(static_cast<uint8_t>(bytes[pos + i])) << (8 * i);
  return value;
}

Error malformed(const std::string& why) {
  return make_error(ErrorCode::invalid_argument, "malformed ANS-104 data item header: " + why);
}

}  // namespace

const SignatureScheme* signature_scheme(uint16_t type) {
  for (const SignatureScheme& scheme : kSchemes) {
    if (scheme.type == type) return &scheme;
  }
  return nullptr;
}

Result<DataItemHeader> parse_data_item_header(BytesView bytes) {
  DataItemHeader header;
  if (bytes.size() < 2) return malformed("shorter than its signature type");
  header.signature_type = static_cast<uint16_t>(read_le(bytes, 0, 2));
  const SignatureScheme* scheme = signature_scheme(header.signature_type);
  if (!scheme) {
    return make_error(ErrorCode::verification_failed,
                      "unsupported signature type " + std::to_string(header.signature_type));
  }
  std::size_t pos = 2;
  auto take = [&](std::size_t count, Bytes& out, const char* what) -> Status {
    if (bytes.size() - pos < count) return malformed(std::string("truncated in the ") + what);
    out.assign(bytes.substr(pos, count));
    pos += count;
    return {};
  };
  auto optional_field = [&](Bytes& out, const char* what) -> Status {
    if (pos >= bytes.size()) return malformed(std::string("truncated before the ") + what);
    const uint8_t present = static_cast<uint8_t>(bytes[pos++]);
    if (present > 1) return malformed(std::string("bad presence byte for the ") + what);
    return present ? take(32, out, what) : Status{};
  };
  if (Status s = take(scheme->signature_size, header.signature, "signature"); !s) return s.take_error();
  if (Status s = take(scheme->owner_size, header.owner, "owner"); !s) return s.take_error();
  if (Status s = optional_field(header.target, "target"); !s) return s.take_error();
  if (Status s = optional_field(header.anchor, "anchor"); !s) return s.take_error();
  if (bytes.size() - pos < 16) return malformed("truncated in the tag counts");
  header.tag_count = read_le(bytes, pos, 8);
  const uint64_t tag_length = read_le(bytes, pos + 8, 8);
  pos += 16;
  if (tag_length > bytes.size() - pos) return malformed("tag bytes run past the end");
  header.tag_bytes.assign(bytes.substr(pos, static_cast<std::size_t>(tag_length)));
  pos += static_cast<std::size_t>(tag_length);
  auto tags = decode_avro_tags(header.tag_bytes);
  if (!tags) return malformed(tags.error().message);
  if (tags->size() != header.tag_count) {
    return malformed("header declares " + std::to_string(header.tag_count) + " tags, the tag bytes hold " +
                     std::to_string(tags->size()));
  }
  header.tags = std::move(*tags);
  header.size = pos;
  return header;
}

Bytes data_item_signature_message(const DataItemHeader& header, BytesView data) {
  return deep_hash(DeepHashItem::of_list({
      DeepHashItem::of_blob("dataitem"),
      DeepHashItem::of_blob("1"),
      DeepHashItem::of_blob(std::to_string(header.signature_type)),
      DeepHashItem::of_blob(header.owner),
      DeepHashItem::of_blob(header.target),
      DeepHashItem::of_blob(header.anchor),
      DeepHashItem::of_blob(header.tag_bytes),
      DeepHashItem::of_blob(data),
  }));
}

Status verify_data_item(const DataItemHeader& header, BytesView data, std::string_view expected_id) {
  const SignatureScheme* scheme = signature_scheme(header.signature_type);
  if (!scheme || !scheme->verifiable) {
    return make_error(ErrorCode::verification_failed,
                      "unsupported signature type " + std::to_string(header.signature_type) +
                          (scheme ? std::string(" (") + scheme->name + ")" : std::string()));
  }
  const Bytes signed_id = base64url_encode(sha256(header.signature));
  if (signed_id != expected_id) {
    return make_error(ErrorCode::verification_failed, "data item id does not match its signature: SHA-256(signature) is " +
                                                          signed_id + ", expected " + std::string(expected_id));
  }
  const Bytes message = data_item_signature_message(header, data);
  Status verdict = header.signature_type == 1 ? verify_rsa_pss(header.owner, message, header.signature)
                                              : verify_ed25519(header.owner, message, header.signature);
  if (!verdict) {
    return make_error(ErrorCode::verification_failed,
                      "data item " + signed_id + ": " + verdict.error().message + " for owner " +
                          owner_address(header.owner) + " over its header, tags and data");
  }
  return {};
}

}  // namespace kem::store
