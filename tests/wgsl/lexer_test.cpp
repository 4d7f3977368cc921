// The lexer: token spelling and kind, positions, comments, and template-list discovery.
#include <gtest/gtest.h>

#include "lexer.h"

namespace kem::wgsl {
namespace {

// "kind:text" for each token except the final end token, e.g. "id:array <( id:u32 )>".
std::string render(std::string_view src) {
  Result<std::vector<Token>> tokens = tokenize(src);
  if (!tokens) return "error: " + tokens.error().message;
  std::string out;
  for (const Token& t : *tokens) {
    if (t.kind == TokenKind::end) break;
    if (!out.empty()) out += ' ';
    switch (t.kind) {
      case TokenKind::identifier: out += "id:" + std::string(t.text); break;
      case TokenKind::int_literal: out += "int:" + std::string(t.text); break;
      case TokenKind::float_literal: out += "float:" + std::string(t.text); break;
      case TokenKind::punct: out += std::string(t.text); break;
      case TokenKind::template_open: out += "<("; break;
      case TokenKind::template_close: out += ")>"; break;
      case TokenKind::end: break;
    }
  }
  return out;
}

TEST(Lexer, NumbersAndSuffixes) {
  EXPECT_EQ(render("0 12 34u 5i 0x1F 0XaBu 0x10i"),
            "int:0 int:12 int:34u int:5i int:0x1F int:0XaBu int:0x10i");
  EXPECT_EQ(render("1.0 .5 2. 1e3 1E-2f 3f 0h 1.5h 0x1p4 0x.8p-1f 0x1.fp+2h 0.0"),
            "float:1.0 float:.5 float:2. float:1e3 float:1E-2f float:3f float:0h float:1.5h "
            "float:0x1p4 float:0x.8p-1f float:0x1.fp+2h float:0.0");
  EXPECT_EQ(render("012"), "error: 1:1: malformed numeric literal");
  EXPECT_EQ(render("1x"), "error: 1:1: malformed numeric literal");
  EXPECT_EQ(render("0x"), "error: 1:1: malformed numeric literal");
  EXPECT_EQ(render("1e"), "error: 1:1: malformed numeric literal");
  EXPECT_EQ(render("1.5u"), "error: 1:1: malformed numeric literal");
}

TEST(Lexer, PunctuationIsMaximalMunch) {
  EXPECT_EQ(render("a>>=b<<=c->d&&e||f==g!=h++i--j"),
            "id:a >>= id:b <<= id:c -> id:d && id:e || id:f == id:g != id:h ++ id:i -- id:j");
  EXPECT_EQ(render("_ = _a"), "_ = id:_a");
  EXPECT_EQ(render("__a"), "error: 1:1: identifiers must not start with '__'");
}

TEST(Lexer, CommentsAndPositions) {
  Result<std::vector<Token>> tokens =
      tokenize("a // line comment\n/* block /* nested */ */ b\r\n\tc /* x\n y */ d");
  ASSERT_TRUE(tokens.ok());
  ASSERT_EQ(tokens->size(), 5u);
  EXPECT_EQ((*tokens)[1].text, "b");
  EXPECT_EQ((*tokens)[1].pos.line, 2u);
  EXPECT_EQ((*tokens)[1].pos.column, 26u);
  EXPECT_EQ((*tokens)[2].text, "c");
  EXPECT_EQ((*tokens)[2].pos.line, 3u);
  EXPECT_EQ((*tokens)[2].pos.column, 2u);
  EXPECT_EQ((*tokens)[3].text, "d");
  EXPECT_EQ((*tokens)[3].pos.line, 4u);
  EXPECT_EQ((*tokens)[3].pos.column, 7u);
  EXPECT_EQ((*tokens)[3].pos.offset, 60u);
  EXPECT_EQ((*tokens)[4].kind, TokenKind::end);
  EXPECT_EQ(render("/* /* */"), "error: 1:1: unterminated block comment");
  EXPECT_EQ(render("x\n  #"), "error: 2:3: unexpected character '#'");
  EXPECT_EQ(render("\x01"), "error: 1:1: unexpected character '\\x01'");
}

TEST(Lexer, TemplateListDiscovery) {
  EXPECT_EQ(render("array<u32, 4>"), "id:array <( id:u32 , int:4 )>");
  EXPECT_EQ(render("array<vec2<f32>>"), "id:array <( id:vec2 <( id:f32 )> )>");
  EXPECT_EQ(render("a<vec2<vec3<f32>>>"),
            "id:a <( id:vec2 <( id:vec3 <( id:f32 )> )> )>");
  EXPECT_EQ(render("vec2<f32>=x"), "id:vec2 <( id:f32 )> = id:x");
  EXPECT_EQ(render("a<vec2<f32>>=x"), "id:a <( id:vec2 <( id:f32 )> )> = id:x");
  EXPECT_EQ(render("a < b"), "id:a < id:b");
  EXPECT_EQ(render("a >> b"), "id:a >> id:b");
  EXPECT_EQ(render("a<b || c>d"), "id:a < id:b || id:c > id:d");
  EXPECT_EQ(render("a<(b>c)"), "id:a < ( id:b > id:c )");
  EXPECT_EQ(render("a<b; c>d"), "id:a < id:b ; id:c > id:d");
  EXPECT_EQ(render("a<<b>c"), "id:a << id:b > id:c");
  EXPECT_EQ(render("a<=b>c"), "id:a <= id:b > id:c");
  EXPECT_EQ(render("var<storage,read>"), "id:var <( id:storage , id:read )>");
}

}  // namespace
}  // namespace kem::wgsl
