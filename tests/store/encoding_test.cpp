// base64url, UTF-8 and Avro tag encodings against published vectors (RFC 4648 §10, RFC 3629).
#include <gtest/gtest.h>

#include <random>

#include "avro_tags.h"
#include "base64url.h"
#include "utf8.h"

namespace kem::store {
namespace {

TEST(Base64Url, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64url_encode(plain), encoded);
    auto decoded = base64url_decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64Url, UsesTheUrlAlphabet) {
  EXPECT_EQ(base64url_encode(std::string("\xfb\xff\xbf", 3)), "-_-_");
  EXPECT_EQ(base64url_decode("-_-_").value(), std::string("\xfb\xff\xbf", 3));
}

TEST(Base64Url, RejectsOtherCharactersAndImpossibleLengths) {
  auto plus = base64url_decode("ab+d");
  ASSERT_FALSE(plus.ok());
  EXPECT_EQ(plus.error().message, "invalid base64url character at position 2");
  EXPECT_FALSE(base64url_decode("Zg==").ok());
  auto length = base64url_decode("abcde");
  ASSERT_FALSE(length.ok());
  EXPECT_EQ(length.error().code, ErrorCode::invalid_argument);
}

TEST(Utf8, AcceptsValidText) {
  EXPECT_EQ(first_invalid_utf8("fn main() {} // \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), std::nullopt);
  EXPECT_EQ(first_invalid_utf8(""), std::nullopt);
}

TEST(Utf8, FindsTheFirstBadByte) {
  EXPECT_EQ(first_invalid_utf8("ab\xff"), 2u);
  EXPECT_EQ(first_invalid_utf8("a\xc0\xaf"), 1u);          // overlong "/"
  EXPECT_EQ(first_invalid_utf8("a\xed\xa0\x80"), 1u);      // surrogate U+D800
  EXPECT_EQ(first_invalid_utf8("\xf4\x90\x80\x80"), 0u);   // U+110000
  EXPECT_EQ(first_invalid_utf8("abc\xe2\x82"), 3u);        // truncated
}

// Issue 19: Tint accepts any bytes inside comments, so a WGSL source is checked outside them only.
TEST(Utf8, WgslCommentsMayHoldAnyBytes) {
  EXPECT_EQ(first_invalid_utf8_outside_wgsl_comments("fn f() {} // \xff\xfe\xc0\xaf\n"), std::nullopt);
  EXPECT_EQ(first_invalid_utf8_outside_wgsl_comments("/* \xff /* nested \xed\xa0\x80 */ \x80 */ fn f() {}"),
            std::nullopt);
  EXPECT_EQ(first_invalid_utf8_outside_wgsl_comments("// \xff"), std::nullopt);  // to the end of input
  // Outside comments every byte must be UTF-8, as before.
  EXPECT_EQ(first_invalid_utf8_outside_wgsl_comments("fn \xff"), 3u);
  EXPECT_EQ(first_invalid_utf8_outside_wgsl_comments("// ok\nfn \xff() {}"), 9u);
  // A line comment ends at any WGSL line break (here CR, NEL U+0085 and U+2028).
  EXPECT_EQ(first_invalid_utf8_outside_wgsl_comments("// \xff\r\xff"), 5u);
  EXPECT_EQ(first_invalid_utf8_outside_wgsl_comments("// \xff\xc2\x85\xff"), 6u);
  EXPECT_EQ(first_invalid_utf8_outside_wgsl_comments("// \xff\xe2\x80\xa8\xff"), 7u);
  // The nested block closes only at its last "*/"; a byte after that is code again.
  EXPECT_EQ(first_invalid_utf8_outside_wgsl_comments("/* /* */ \xff */\xff"), 13u);
  // "//" inside a block comment does not hide its "*/".
  EXPECT_EQ(first_invalid_utf8_outside_wgsl_comments("/* // */\xff"), 8u);
  // The plain check still refuses such bytes anywhere.
  EXPECT_EQ(first_invalid_utf8("// \xff\n"), 3u);
}

// The plain reading of the rule, one position at a time, as the reference for the fast scan.
std::optional<std::size_t> reference_outside_comments(std::string_view t) {
  auto line_break = [&](std::size_t i) -> std::size_t {
    const std::string_view r = t.substr(i);
    if (r[0] == '\n' || r[0] == '\v' || r[0] == '\f' || r[0] == '\r') return 1;
    if (r.starts_with("\xC2\x85")) return 2;
    if (r.starts_with("\xE2\x80\xA8") || r.starts_with("\xE2\x80\xA9")) return 3;
    return 0;
  };
  std::size_t i = 0;
  bool line = false;
  int depth = 0;
  while (i < t.size()) {
    const std::string_view r = t.substr(i);
    if (line) {
      const std::size_t br = line_break(i);
      line = br == 0;
      i += br == 0 ? 1 : br;
    } else if (depth > 0) {
      if (r.starts_with("/*")) ++depth, i += 2;
      else if (r.starts_with("*/")) --depth, i += 2;
      else ++i;
    } else if (r.starts_with("//")) {
      line = true, i += 2;
    } else if (r.starts_with("/*")) {
      depth = 1, i += 2;
    } else {
      // One code point, checked by the plain validator on just its bytes.
      std::size_t len = 1;
      const auto lead = static_cast<uint8_t>(r[0]);
      if (lead >= 0xF0) len = 4;
      else if (lead >= 0xE0) len = 3;
      else if (lead >= 0xC0) len = 2;
      if (lead >= 0x80 && (lead < 0xC2 || lead > 0xF4)) return i;
      if (r.size() < len || first_invalid_utf8(r.substr(0, len))) return i;
      i += len;
    }
  }
  return std::nullopt;
}

TEST(Utf8, TheFastCommentScanAgreesWithThePlainReadingOnRandomSources) {
  const std::vector<std::string> pieces = {"/", "*", "//", "/*", "*/", "\n", "\r", "\v", "\xC2\x85", "\xE2\x80\xA8",
                                           "\xE2\x80\xA9", "\xE2\x80", "\xC2", "\xE2", "\xff", "\x80", "a", "fn x",
                                           "\xC3\xA9", "\xF0\x9F\x98\x80", "\xED\xA0\x80", "\xC0\xAF", " "};
  std::mt19937 random(19);
  for (int n = 0; n < 20000; ++n) {
    std::string s;
    const int count = static_cast<int>(random() % 24);
    for (int k = 0; k < count; ++k) s += pieces[random() % pieces.size()];
    ASSERT_EQ(first_invalid_utf8_outside_wgsl_comments(s), reference_outside_comments(s)) << "source: " << s;
  }
}

TEST(AvroTags, RoundTripsAndMatchesTheKnownEncoding) {
  const Tags tags = {{"App-Name", "ArDrive-Web"}};
  // count 1 (zig-zag 2), len 8 (16 = 0x10), "App-Name", len 11 (22 = 0x16), value, terminator.
  const Bytes expected = std::string("\x02\x10" "App-Name" "\x16" "ArDrive-Web" "\x00", 23);
  EXPECT_EQ(encode_avro_tags(tags), expected);
  auto decoded = decode_avro_tags(expected);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, tags);
}

TEST(AvroTags, RejectsTrailingAndTruncatedBytes) {
  EXPECT_FALSE(decode_avro_tags(std::string("\x02\x10" "App-Name", 10)).ok());
  auto trailing = decode_avro_tags(std::string("\x00\x00", 2));
  ASSERT_FALSE(trailing.ok());
  EXPECT_EQ(trailing.error().message, "malformed Avro tags: 1 bytes after the array");
}

}  // namespace
}  // namespace kem::store
