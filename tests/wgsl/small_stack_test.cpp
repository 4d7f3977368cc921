// The front end on a thread with a small stack (issue 19): the longest constant chain, the
// deepest template and statement nesting and the highest expression that KEM accepts must not
// overflow it, in release and under ASan. No
// recursion depth grows with a chain of named constants (const_eval.h), and template lists stop
// at Tint's 127 levels (parser.h).
#include <gtest/gtest.h>
#include <pthread.h>

#include <functional>
#include <string>

#include "kem/reflection.h"
#include "metering.h"
#include "parser.h"

namespace kem {
namespace {

constexpr size_t kSmallStack = 256 * 1024;
// For the deepest statement nesting and the highest expression, which the recursive-descent
// parser, the statement walks and the syntax tree's destructors follow: in a release build they
// need between 64 and 128 KiB (measured), so 256 KiB leaves room on any thread KEM parses on
// (its own have 8 MiB; the BEAM's dirty schedulers 320 KiB). AddressSanitizer's Debug frames are
// several times larger: there they need between 256 and 512 KiB (measured), and get 1 MiB.
#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kDeepStack = 1024 * 1024;
#else
constexpr size_t kDeepStack = kSmallStack;
#endif

// Runs `work` on a new thread whose stack is `size` bytes (std::thread cannot set it).
void run_on_small_stack(const std::function<void()>& work, size_t size = kSmallStack) {
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, size), 0);
  pthread_t thread;
  auto body = [](void* arg) -> void* {
    (*static_cast<const std::function<void()>*>(arg))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, body, const_cast<std::function<void()>*>(&work)), 0);
  ASSERT_EQ(pthread_join(thread, nullptr), 0);
  pthread_attr_destroy(&attr);
}

std::string repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// c0 = 1u, c1 = c0 + 1u, ...: the last is `n`.
std::string chain_kernel(size_t n, bool reversed) {
  std::string decls;
  for (size_t i = 0; i < n; ++i) {
    const size_t k = reversed ? n - 1 - i : i;
    decls += "const c" + std::to_string(k) + " = " +
             (k == 0 ? std::string("1u") : "c" + std::to_string(k - 1) + " + 1u") + ";\n";
  }
  return decls + "@group(0) @binding(0) var<storage, read_write> out: array<u32>;\n" +
         "@compute @workgroup_size(c" + std::to_string(n - 1) + " % 64u + 1u)\n" +
         "fn main() { for (var i = 0u; i < c" + std::to_string(n - 1) + "; i++) { out[i] = i; } }\n";
}

TEST(SmallStack, ALongConstantChainInEitherOrder) {
  // 20,000 constants, far past the 1,023 that recursion through names once allowed; declared in
  // order and in reverse (WGSL module-scope declarations may come in any order).
  for (bool reversed : {false, true}) {
    const std::string src = chain_kernel(20000, reversed);
    run_on_small_stack([&] {
      Result<Reflection> r = reflect_wgsl(src);
      ASSERT_TRUE(r.ok()) << r.error().message;
      EXPECT_EQ(r->entry_points[0].workgroup_size, (std::array<uint32_t, 3>{20000 % 64 + 1, 1, 1}));
      Result<MeteredKernel> m = meter_wgsl(src);
      ASSERT_TRUE(m.ok()) << m.error().message;
      // The loop's bound is the constant 20,000: it is charged once, before it starts.
      EXPECT_EQ(m->charged_loops, 1u);
    });
  }
}

TEST(SmallStack, ALongCycleOfConstantsIsAnError) {
  std::string src;
  const size_t n = 20000;
  for (size_t i = 0; i < n; ++i)
    src += "const c" + std::to_string(i) + " = c" + std::to_string((i + 1) % n) + " + 1;\n";
  src += "@compute @workgroup_size(c0) fn main() {}";
  run_on_small_stack([&] {
    Result<Reflection> r = reflect_wgsl(src);
    ASSERT_FALSE(r.ok());
    // The reference that closes the cycle: c19999 = c0 + 1, on line 20,000.
    EXPECT_EQ(r.error().message, "20000:16: 'c0' is defined in terms of itself");
  });
}

TEST(SmallStack, TheDeepestTemplateNestingTintAllows) {
  const size_t deepest = wgsl::kMaxTemplateDepth;
  ASSERT_EQ(deepest, 127u);
  auto kernel = [](size_t levels) {
    return "alias T = " + repeat("array<", levels) + "u32" + repeat(", 1>", levels) + ";\n" +
           "@group(0) @binding(0) var<storage, read_write> out: array<u32>;\n"
           "@compute @workgroup_size(1) fn main() {\n"
           "  { { var x: " + repeat("array<", levels) + "u32" + repeat(", 1>", levels) + "; } }\n"
           "  for (var i = 0u; i < 2u; i++) { out[i] = " +
           repeat("vec2<", levels - 1) + "u32" + repeat(">", levels - 1) + "(1u).x; }\n}\n";
  };
  const std::string ok = kernel(deepest);
  const std::string too_deep = kernel(deepest + 1);
  run_on_small_stack([&] {
    Result<Reflection> r = reflect_wgsl(ok);
    ASSERT_TRUE(r.ok()) << r.error().message;
    Result<MeteredKernel> m = meter_wgsl(ok);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->charged_loops, 1u);  // i < 2u: a fixed trip count
    Result<Reflection> deeper = reflect_wgsl(too_deep);
    ASSERT_FALSE(deeper.ok());
    EXPECT_EQ(deeper.error().message, "1:778: nesting is too deep (more than 127 template lists)");
  });
}

// Loops in `if`s, nested `pairs` times, in a function that reaches a barrier: every walk of
// metering (the loop finder, the branch walk of the uniformity retry, the rewrite) goes the
// whole depth.
std::string nested_kernel(size_t pairs) {
  return "@group(0) @binding(0) var<storage, read> src: array<u32>;\n"
         "@group(0) @binding(1) var<storage, read_write> out: array<u32>;\n"
         "@compute @workgroup_size(4) fn main(@builtin(local_invocation_index) l: u32) {\n"
         "  var t = 0u;\n  " +
         repeat("if (src[1] > t) { while (t < src[2]) { ", pairs) + "t += 1u;" + repeat(" } }", pairs) +
         "\n  if (t > 3u) { workgroupBarrier(); }\n  out[l] = t;\n}\n";
}

TEST(SmallStack, TheDeepestStatementNestingInEveryMeteringMode) {
  size_t deepest = 0;  // the most pairs the parser accepts (kMaxNesting levels in all)
  for (size_t pairs = wgsl::kMaxNesting; pairs > 0 && deepest == 0; --pairs)
    if (reflect_wgsl(nested_kernel(pairs)).ok()) deepest = pairs;
  ASSERT_GE(deepest, 60u);
  const std::string ok = nested_kernel(deepest);
  Result<Reflection> deeper = reflect_wgsl(nested_kernel(deepest + 1));
  ASSERT_FALSE(deeper.ok());
  EXPECT_NE(deeper.error().message.find("nesting is too deep (more than 256 levels)"), std::string::npos)
      << deeper.error().message;
  run_on_small_stack([&] {
    ASSERT_TRUE(reflect_wgsl(ok).ok());
    for (UniformExits mode : {UniformExits::barrier_loops, UniformExits::barrier_functions,
                              UniformExits::barrier_functions_outside_branches}) {
      MeteringOptions options;
      options.uniform_exits = mode;
      Result<MeteredKernel> m = meter_wgsl(ok, options);
      ASSERT_TRUE(m.ok()) << m.error().message;
      EXPECT_EQ(m->metered_loops, deepest);
      EXPECT_EQ(m->widened_loops, mode == UniformExits::barrier_functions ? deepest : mode == UniformExits::barrier_loops ? deepest : 0u);
    }
  }, kDeepStack);
}

// A range loop's guard prints its bound again (print_expr): a bound as high as the parser
// allows, on the small stack.
TEST(SmallStack, TheHighestExpressionInARangeLoopsGuard) {
  auto kernel = [](size_t operators) {
    std::string bound = "src[0]";
    for (size_t i = 0; i < operators; ++i) bound += i % 2 ? " + src[1]" : " - src[2]";
    return "@group(0) @binding(0) var<storage, read> src: array<u32>;\n"
           "@group(0) @binding(1) var<storage, read_write> out: array<u32>;\n"
           "@compute @workgroup_size(1) fn main() {\n"
           "  var t = 0u;\n"
           "  for (var i = 0u; i < " + bound + "; i++) { t += i; }\n"
           "  out[0] = t;\n}\n";
  };
  size_t highest = 0;
  for (size_t n = wgsl::kMaxExpressionHeight; n > 0 && highest == 0; --n)
    if (reflect_wgsl(kernel(n)).ok()) highest = n;
  ASSERT_GE(highest, 1000u);
  const std::string ok = kernel(highest);
  run_on_small_stack([&] {
    Result<MeteredKernel> m = meter_wgsl(ok);
    ASSERT_TRUE(m.ok()) << m.error().message;
    EXPECT_EQ(m->range_loops, 1u);
    // The guard holds the bound as print_expr writes it: every operation parenthesised.
    std::string printed = "src[0]";
    for (size_t i = 0; i < highest; ++i) printed = "(" + printed + (i % 2 ? ") + (src[1])" : ") - (src[2])");
    EXPECT_NE(m->source.find("_range_u32(0u, " + printed + ", 1u, true, false)"), std::string::npos);
  }, kDeepStack);
}

}  // namespace
}  // namespace kem
