#include "avro_tags.h"

#include <cstdint>
#include <string>

namespace kem::store {
namespace {

// Avro longs are zig-zag varints of at most 10 bytes.
bool read_long(BytesView bytes, std::size_t& pos, int64_t& out) {
  uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= bytes.size()) return false;
    const uint8_t byte = static_cast<uint8_t>(bytes[pos++]);
    value |= uint64_t(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      out = static_cast<int64_t>(value >> 1) ^ -static_cast<int64_t>(value & 1);
      return true;
    }
  }
  return false;
}

bool read_bytes(BytesView bytes, std::size_t& pos, Bytes& out) {
  int64_t length = 0;
  if (!read_long(bytes, pos, length) || length < 0 || uint64_t(length) > bytes.size() - pos) return false;
  out.assign(bytes.substr(pos, static_cast<std::size_t>(length)));
  pos += static_cast<std::size_t>(length);
  return true;
}

void write_long(Bytes& out, int64_t value) {
  uint64_t zigzag = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
  while (zigzag >= 0x80) {
    out += static_cast<char>((zigzag & 0x7f) | 0x80);
    zigzag >>= 7;
  }
  out += static_cast<char>(zigzag);
}

Error bad_tags(const std::string& why) { return make_error(ErrorCode::invalid_argument, "malformed Avro tags: " + why); }

}  // namespace

Result<Tags> decode_avro_tags(BytesView bytes) {
  Tags tags;
  if (bytes.empty()) return tags;  // zero tags are written as no bytes at all
  std::size_t pos = 0;
  for (;;) {
    int64_t count = 0;
    if (!read_long(bytes, pos, count)) return bad_tags("truncated block count");
    if (count == 0) break;
    if (count < 0) {  // a negative count is followed by the block's byte size, which we skip over
      int64_t block_size = 0;
      if (!read_long(bytes, pos, block_size)) return bad_tags("truncated block size");
      if (count == INT64_MIN) return bad_tags("block count out of range");
      count = -count;
    }
    if (uint64_t(count) > bytes.size()) return bad_tags("block count larger than the bytes");
    for (int64_t i = 0; i < count; ++i) {
      Bytes name, value;
      if (!read_bytes(bytes, pos, name) || !read_bytes(bytes, pos, value)) return bad_tags("truncated tag");
      tags.emplace_back(std::move(name), std::move(value));
    }
  }
  if (pos != bytes.size()) return bad_tags(std::to_string(bytes.size() - pos) + " bytes after the array");
  return tags;
}

Bytes encode_avro_tags(const Tags& tags) {
  Bytes out;
  if (tags.empty()) return out;
  write_long(out, static_cast<int64_t>(tags.size()));
  for (const auto& [name, value] : tags) {
    write_long(out, static_cast<int64_t>(name.size()));
    out += name;
    write_long(out, static_cast<int64_t>(value.size()));
    out += value;
  }
  write_long(out, 0);
  return out;
}

}  // namespace kem::store
