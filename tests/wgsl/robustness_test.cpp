// Hostile input: the front end must answer every input with a value, never crash, hang or
// overflow the stack. Mutations of the corpus and random bytes, with a fixed seed so that a
// failure reproduces.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "corpus.h"
#include "kem/reflection.h"
#include "parser.h"

namespace kem {
namespace {

std::string mutate(std::string s, std::mt19937& rng) {
  static constexpr std::string_view kPieces[] = {
      "<", ">", ">>", "(", ")", "{", "}", "[", "]", ";", ",", "@", "loop", "for", "var", "fn",
      "/*", "*/", "//", "\n", "0x", "1e", ".", "_", "=", "break if", "continuing", "array<",
      "'", "\xC3\xA9", "\xE2\x80\xA8", "\0"};
  std::uniform_int_distribution<int> op_dist(0, 4);
  int mutations = 1 + static_cast<int>(rng() % 4);
  for (int m = 0; m < mutations && !s.empty(); ++m) {
    size_t at = rng() % s.size();
    switch (op_dist(rng)) {
      case 0: s.erase(at, 1 + rng() % 8); break;
      case 1: s[at] = static_cast<char>(rng() % 256); break;
      case 2: {
        std::string_view piece = kPieces[rng() % std::size(kPieces)];
        s.insert(at, piece.data(), piece.size());
        break;
      }
      case 3: s.resize(at); break;
      case 4: {
        size_t from = rng() % s.size();
        size_t len = std::min<size_t>(1 + rng() % 32, s.size() - from);
        s.insert(at, s.substr(from, len));
        break;
      }
    }
  }
  return s;
}

TEST(Robustness, MutatedCorpusNeverCrashes) {
  std::mt19937 rng(20240607);
  std::vector<std::string_view> seeds(wgsl::test::kKernels.begin(), wgsl::test::kKernels.end());
  seeds.push_back(wgsl::test::kEveryForm);
  int ok = 0, errors = 0;
  for (int i = 0; i < 4000; ++i) {
    std::string src = mutate(std::string(seeds[i % seeds.size()]), rng);
    Result<Reflection> r = reflect_wgsl(src);
    if (r.ok()) {
      ++ok;
    } else {
      ++errors;
      // Every failure is a positioned compile error, never anything else.
      EXPECT_EQ(r.error().code, ErrorCode::compile_error) << r.error().message;
      EXPECT_NE(r.error().message.find(':'), std::string::npos) << r.error().message;
    }
  }
  // Both outcomes occur, so the mutations neither always break nor never touch the syntax.
  EXPECT_GT(ok, 100);
  EXPECT_GT(errors, 1000);
}

TEST(Robustness, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string src(rng() % 200, '\0');
    for (char& c : src) c = static_cast<char>(rng() % 256);
    Result<Reflection> r = reflect_wgsl(src);
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, ErrorCode::compile_error);
    }
  }
}

std::string repeat(std::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

std::string error_of(const std::string& src) {
  Result<Reflection> r = reflect_wgsl(src);
  return r.ok() ? "ok" : r.error().message;
}

TEST(Robustness, DeepNestingIsAnErrorNotAStackOverflow) {
  const size_t n = 20000;
  EXPECT_EQ(error_of("const a = " + repeat("(", n) + "1" + repeat(")", n) + ";"),
            "1:139: nesting is too deep (more than 256 levels)");
  EXPECT_EQ(error_of("fn f() {" + repeat("{", n) + repeat("}", n) + "}"),
            "1:265: nesting is too deep (more than 256 levels)");
  EXPECT_EQ(error_of("const a = " + repeat("- ", n) + "1;"),
            "1:521: nesting is too deep (more than 256 levels)");
  EXPECT_NE(error_of("alias T = " + repeat("array<", n) + "u32" + repeat(">", n) + ";")
                .find("nesting is too deep"),
            std::string::npos);
  EXPECT_NE(error_of("fn f() {" + repeat("if a {", n) + repeat("}", n) + "}").find("too deep"),
            std::string::npos);
  EXPECT_NE(error_of("fn f() { if a {} " + repeat("else if a {} ", n) + "}").find("too deep"),
            std::string::npos);
  EXPECT_NE(error_of("fn f() { " + repeat("*", n) + "p = 1; }").find("too deep"),
            std::string::npos);
}

TEST(Robustness, LongChainsAreBoundedToo) {
  const size_t n = 20000;
  // Left-associative chains do not recurse in the parser but make tall trees.
  EXPECT_EQ(error_of("const a = 1" + repeat(" + 1", n) + ";"),
            "1:11: expression is too complex (more than 1024 levels)");
  EXPECT_EQ(error_of("fn f() { let a = x" + repeat("[0]", n) + "; }"),
            "1:18: expression is too complex (more than 1024 levels)");
  // A long flat program is fine.
  EXPECT_EQ(error_of(repeat("const c = 1 + 2 * 3;\n", 1) + "fn f() {" + repeat("x = 1;", n) + "}"),
            "ok");
  // Chains of named constants are evaluated once each, without recursion (small_stack_test.cpp
  // runs 20,000 of them on a 256 KiB stack).
  std::string chain = "const c0 = 1u;\n";
  for (int i = 1; i < 100; ++i)
    chain += "const c" + std::to_string(i) + " = c" + std::to_string(i - 1) + " + 1u;\n";
  chain += "@compute @workgroup_size(c99) fn main() {}";
  Result<Reflection> r = reflect_wgsl(chain);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->entry_points[0].workgroup_size[0], 100u);
  EXPECT_EQ(error_of("const a = b;\nconst b = a;\n@compute @workgroup_size(a) fn main() {}"),
            "2:11: 'a' is defined in terms of itself");
}

}  // namespace
}  // namespace kem
