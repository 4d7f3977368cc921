// Runaway kernels: loop metering stops them with budget_exceeded, and changes nothing else.
#include "test_support.h"
#include "wgsl/front_end_runs.h"
#include "wgsl/metering.h"

namespace kem::test {
namespace {

const std::string kHeader =
    "@group(0) @binding(0) var<storage, read> src: array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> dst: array<u32>;\n";

Result<std::vector<uint8_t>> run_with(const std::string& source, const std::vector<uint8_t>& input,
                                      std::optional<uint64_t> budget = std::nullopt, bool unmetered = false) {
  KernelRequest r;
  r.source = source;
  r.input = input;
  r.loop_budget = budget;
  r.unmetered = unmetered;
  return shared_executor().run(r);
}

void expect_budget_exceeded(const std::string& source, std::optional<uint64_t> budget = std::nullopt) {
  auto start = std::chrono::steady_clock::now();
  auto out = run_with(source, u32_bytes({0, 0, 0, 0}), budget);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(out.ok()) << "a runaway kernel returned an output";
  EXPECT_EQ(out.error().code, ErrorCode::budget_exceeded) << out.error().message;
  EXPECT_LT(took, std::chrono::seconds(5));
  // The executor goes on serving.
  auto next = run(read_kernel("double-integer.wgsl"), {1, 3, 5, 7});
  KEM_ASSERT_OK(next);
  EXPECT_EQ(*next, (std::vector<uint8_t>{2, 6, 10, 14}));
}

// The default budget (2^24 iterations per invocation) stops a loop that never ends, in a time
// proportional to the budget: a sixteenth of it takes about a sixteenth of the time. No fixed
// bound fits every adapter: one invocation's 2^24 dependent read-modify-writes of device memory
// take under a second on lavapipe and about 4.5 s on the H200 (issue 18).
TEST(Metering, TightLoopWithASideEffectIsStoppedWithTheDefaultBudget) {
  const std::string source = kHeader +
                             "@compute @workgroup_size(1) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
                             "  let i = id.x;\n"
                             "  loop { dst[i] += 1u; if (src[0] == 0xFFFFFFFFu) { break; } }\n"
                             "}\n";
  auto timed = [&](std::optional<uint64_t> budget) {
    const auto start = std::chrono::steady_clock::now();
    auto out = run_with(source, u32_bytes({0, 0, 0, 0}), budget);
    EXPECT_FALSE(out.ok()) << "a runaway kernel returned an output";
    if (!out.ok()) {
      EXPECT_EQ(out.error().code, ErrorCode::budget_exceeded) << out.error().message;
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  timed(1u << 20);  // compiled once, so that neither figure below includes the compile
  const double sixteenth = timed(1u << 20);
  const double full = timed(std::nullopt);
  EXPECT_LT(full, 32 * sixteenth + 1.0) << "1/16 of the budget: " << sixteenth << " s, all of it: " << full << " s";
  auto next = run(read_kernel("double-integer.wgsl"), {1, 3, 5, 7});
  KEM_ASSERT_OK(next);
  EXPECT_EQ(*next, (std::vector<uint8_t>{2, 6, 10, 14}));
}

TEST(Metering, WhileTrueWithABarrierInside) {
  expect_budget_exceeded(kHeader +
                         "var<workgroup> shared_word: u32;\n"
                         "@compute @workgroup_size(64) fn main(@builtin(local_invocation_index) l: u32) {\n"
                         "  while (true) {\n"
                         "    if (l == 0u) { shared_word += 1u; }\n"
                         "    workgroupBarrier();\n"
                         "    if (src[0] == 0xFFFFFFFFu) { break; }\n"
                         "  }\n"
                         "  dst[l] = shared_word;\n"
                         "}\n",
                         100000);
}

TEST(Metering, NestedLoopsWhereOnlyTheInnerRunsAway) {
  expect_budget_exceeded(kHeader +
                         "@compute @workgroup_size(4) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
                         "  for (var i = 0u; i < 3u; i++) {\n"
                         "    var j = 0u;\n"
                         "    loop { j += 1u; if (src[1] == 0xFFFFFFFFu) { break; } }\n"
                         "    dst[id.x] += j;\n"
                         "  }\n"
                         "}\n",
                         1000000);
}

TEST(Metering, ForLoopWhoseContinuePathNeverReachesTheExit) {
  expect_budget_exceeded(kHeader +
                         "@compute @workgroup_size(4) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
                         "  for (var i = 0u; i < 10u; i++) {\n"
                         "    if (src[0] == 0u) { i = 0u; continue; }\n"
                         "    dst[id.x] = i;\n"
                         "  }\n"
                         "}\n",
                         1000000);
}

TEST(Metering, RunawayInsideACalledFunction) {
  expect_budget_exceeded(kHeader +
                         "fn spin(x: u32) -> u32 { var y = x; loop { y += 1u; if (src[2] == 7u) { break; } } return y; }\n"
                         "@compute @workgroup_size(4) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
                         "  for (var i = 0u; i < 2u; i++) { dst[id.x] = spin(i); }\n"
                         "}\n",
                         1000000);
}

TEST(Metering, ALoopCountFromTheInputAtTheBudgetPassesAndOneMoreFails) {
  // One invocation runs src[0] iterations; a budget of B allows exactly B loop-body entries.
  const std::string counted = kHeader +
                              "@compute @workgroup_size(1) fn main() {\n"
                              "  var total = 0u;\n"
                              "  for (var i = 0u; i < src[0]; i++) { total += i; }\n"
                              "  dst[0] = total;\n"
                              "}\n";
  const uint64_t budget = 5000;
  auto within = run_with(counted, u32_bytes({static_cast<uint32_t>(budget)}), budget);
  KEM_ASSERT_OK(within);
  EXPECT_EQ(*within, u32_bytes({static_cast<uint32_t>(budget * (budget - 1) / 2)}));
  auto over = run_with(counted, u32_bytes({static_cast<uint32_t>(budget + 1)}), budget);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, ErrorCode::budget_exceeded);
  // A request cannot raise the operator's budget: asking for more than 2^24 changes nothing.
  auto raised = run_with(counted, u32_bytes({(1u << 24) + 1}), uint64_t(1) << 40);
  ASSERT_FALSE(raised.ok());
  EXPECT_EQ(raised.error().code, ErrorCode::budget_exceeded);
}

// Loops of fixed trip count are charged once before they start (src/wgsl/counted_loop.h): the
// budget must stay exact, alone and nested in a metered loop.
TEST(Metering, AChargedLoopCountsExactlyItsIterations) {
  const std::string constant = kHeader +
                               "@compute @workgroup_size(1) fn main() {\n"
                               "  var total = 0u;\n"
                               "  for (var i = 0u; i < 1000u; i++) { total += i; }\n"
                               "  dst[0] = total;\n"
                               "}\n";
  auto within = run_with(constant, u32_bytes({0}), 1000);
  KEM_ASSERT_OK(within);
  EXPECT_EQ(*within, u32_bytes({999 * 1000 / 2}));
  auto over = run_with(constant, u32_bytes({0}), 999);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, ErrorCode::budget_exceeded);

  // src[0] rounds of an outer metered loop, each entering its body once and the charged inner
  // loop's body 10 times: 11 * src[0] entries.
  const std::string nested = kHeader +
                             "@compute @workgroup_size(1) fn main() {\n"
                             "  var total = 0u;\n"
                             "  for (var r = 0u; r < src[0]; r++) {\n"
                             "    for (var i = 0; i < 10; i++) { total += u32(i); }\n"
                             "  }\n"
                             "  dst[0] = total;\n"
                             "}\n";
  auto fits = run_with(nested, u32_bytes({50}), 550);
  KEM_ASSERT_OK(fits);
  EXPECT_EQ(*fits, u32_bytes({50 * 45}));
  auto short_by_one = run_with(nested, u32_bytes({50}), 549);
  ASSERT_FALSE(short_by_one.ok());
  EXPECT_EQ(short_by_one.error().code, ErrorCode::budget_exceeded);
}

// Loops whose trip count is read when they start (src/wgsl/range_loop.h) are charged then, or
// skipped when it does not fit: the budget stays exact, from whichever loops the iterations come.
// `expected` is the whole output, which is as large as the input.
void expect_exact_budget(const std::string& source, const std::vector<uint8_t>& input, uint64_t iterations,
                         const std::vector<uint8_t>& expected) {
  auto within = run_with(source, input, iterations);
  KEM_ASSERT_OK(within);
  EXPECT_EQ(*within, expected);
  auto plain = run_with(source, input, std::nullopt, /*unmetered=*/true);
  KEM_ASSERT_OK(plain);
  EXPECT_EQ(*plain, expected);
  if (iterations == 0) return;
  auto over = run_with(source, input, iterations - 1);
  ASSERT_FALSE(over.ok()) << "budget " << iterations - 1;
  EXPECT_EQ(over.error().code, ErrorCode::budget_exceeded);
}

std::vector<uint8_t> i32_bytes(std::initializer_list<int32_t> words) {
  std::vector<uint8_t> out;
  for (int32_t w : words)
    for (int b = 0; b < 4; ++b) out.push_back(static_cast<uint8_t>(static_cast<uint32_t>(w) >> (8 * b)));
  return out;
}

TEST(Metering, RangeLoopsKeepTheBudgetExact) {
  // A metered loop of src[1] iterations, then a guarded one of src[0]: B = src[0] + src[1].
  const std::string mixed = kHeader +
                            "@compute @workgroup_size(1) fn main() {\n"
                            "  var total = 0u;\n"
                            "  var j = 0u;\n"
                            "  while j < src[1] { j++; }\n"
                            "  for (var i = 0u; i < src[0]; i++) { total += i; }\n"
                            "  dst[0] = total + j;\n"
                            "}\n";
  expect_exact_budget(mixed, u32_bytes({3000, 17}), 3017, u32_bytes({3000 * 2999 / 2 + 17, 0}));
  // An empty range charges nothing, even with a budget of 0.
  expect_exact_budget(mixed, u32_bytes({0, 0}), 0, u32_bytes({0, 0}));

  // i32 counters from negative starts, up by one and down by a constant step to a constant end.
  const std::string signed_up = kHeader +
                                "@compute @workgroup_size(1) fn main() {\n"
                                "  var total = 0i;\n"
                                "  for (var i = i32(src[0]); i < i32(src[1]); i++) { total += i; }\n"
                                "  dst[0] = u32(total);\n"
                                "}\n";
  expect_exact_budget(signed_up, i32_bytes({-7, 5}), 12, i32_bytes({-18, 0}));  // -7 + ... + 4
  expect_exact_budget(signed_up, i32_bytes({5, -7}), 0, i32_bytes({0, 0}));     // empty
  // From INT_MIN to INT_MAX: 2^32 - 1 iterations, more than any budget allows.
  auto huge = run_with(signed_up, i32_bytes({INT32_MIN, INT32_MAX}), uint64_t(0xFFFFFFFE));
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().code, ErrorCode::budget_exceeded);

  const std::string signed_down = kHeader +
                                  "@compute @workgroup_size(1) fn main() {\n"
                                  "  var total = 0i;\n"
                                  "  for (var i = i32(src[0]); i >= -10; i -= 3) { total += i; }\n"
                                  "  dst[0] = u32(total);\n"
                                  "}\n";
  expect_exact_budget(signed_down, i32_bytes({5}), 6, i32_bytes({5 + 2 - 1 - 4 - 7 - 10}));
  expect_exact_budget(signed_down, i32_bytes({-11}), 0, i32_bytes({0}));
}

TEST(Metering, AHugeRunTimeBoundIsRefusedAtOnce) {
  const std::string source = kHeader +
                             "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
                             "  var total = 0u;\n"
                             "  for (var i = 0u; i < src[0]; i++) { total += i * id.x; }\n"
                             "  dst[id.x] = total;\n"
                             "}\n";
  auto start = std::chrono::steady_clock::now();
  auto out = run_with(source, u32_bytes({0xFFFFFFFFu, 0, 0, 0}));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::budget_exceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  auto next = run_with(source, u32_bytes({4, 0, 0, 0}));
  KEM_ASSERT_OK(next);
  EXPECT_EQ(*next, u32_bytes({0, 6, 12, 18}));
}

TEST(Metering, AnInclusiveBoundAtTheTopOfTheTypeIsNotWrappedAround) {
  const std::string source = kHeader +
                             "@compute @workgroup_size(1) fn main() {\n"
                             "  var count = 0u;\n"
                             "  for (var i = src[0]; i <= src[1]; i++) { count += 1u; }\n"
                             "  dst[0] = count;\n"
                             "}\n";
  // Up to 0xFFFFFFFE: 15 iterations, exactly counted.
  expect_exact_budget(source, u32_bytes({0xFFFFFFF0u, 0xFFFFFFFEu}), 15, u32_bytes({15, 0}));
  // Up to 0xFFFFFFFF: i wraps around and the loop never ends, whatever the budget.
  auto start = std::chrono::steady_clock::now();
  auto out = run_with(source, u32_bytes({0xFFFFFFF0u, 0xFFFFFFFFu}), uint64_t(0xFFFFFFFF));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::budget_exceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(Metering, ALoopThatOnlyLooksConstantIsStillStopped) {
  // i wraps from 0xFFFFFFFF to 0, so the condition never fails: metered per iteration.
  expect_budget_exceeded(kHeader +
                         "@compute @workgroup_size(1) fn main() {\n"
                         "  for (var i = 0u; i <= 0xFFFFFFFFu; i++) { dst[0] = i; }\n"
                         "}\n",
                         100000);
}

TEST(Metering, AChargedLoopWithABarrierRunsAsWritten) {
  // Each of 8 rounds, invocation `s` adds s + 1 to a workgroup word between barriers; every
  // invocation then records the total, 1 + 2 + ... + 8 = 36.
  const std::string source = kHeader +
                             "var<workgroup> acc: u32;\n"
                             "@compute @workgroup_size(8) fn main(@builtin(local_invocation_index) l: u32) {\n"
                             "  for (var s = 0u; s < 8u; s++) {\n"
                             "    if (l == s) { acc += s + 1u; }\n"
                             "    workgroupBarrier();\n"
                             "  }\n"
                             "  dst[l] = acc;\n"
                             "}\n";
  const std::vector<uint8_t> input = u32_bytes({0, 0, 0, 0, 0, 0, 0, 0});
  auto metered = run_with(source, input, 8);
  KEM_ASSERT_OK(metered);
  EXPECT_EQ(*metered, u32_bytes({36, 36, 36, 36, 36, 36, 36, 36}));
  auto over = run_with(source, input, 7);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, ErrorCode::budget_exceeded);
}

TEST(Metering, EveryExampleKernelGivesIdenticalResultsMeteredAndUnmetered) {
  struct Case {
    std::string kernel;
    std::vector<uint8_t> input, params;
    std::optional<uint64_t> output_size;
  };
  auto image = random_bytes(19 * 13 * 4, 1);
  auto bytes = random_bytes(5000, 2);
  std::vector<Case> cases = {
      {"double-integer.wgsl", random_bytes(4096, 3), {}, {}},
      {"pixelize.wgsl", image, u32_bytes({19, 13, 3}), {}},
      {"workgroup-sum.wgsl", random_bytes(3000, 4), {}, {}},
      {"byte-histogram.wgsl", bytes, u32_bytes({5000}), 1024},
  };
  for (const auto& c : cases) {
    const std::string source = read_kernel(c.kernel);
    KernelRequest r;
    r.source = source;
    r.input = c.input;
    r.params = c.params;
    r.output_size = c.output_size;
    auto metered = shared_executor().run(r);
    r.unmetered = true;
    auto plain = shared_executor().run(r);
    KEM_ASSERT_OK(metered);
    KEM_ASSERT_OK(plain);
    EXPECT_EQ(*metered, *plain) << c.kernel;
  }
}

// Runs `source` metered and unmetered and checks both against the CPU reference `expected`.
void expect_metered_and_plain(const std::string& source, const std::vector<uint8_t>& input,
                              const std::vector<uint8_t>& expected) {
  auto metered = run_with(source, input);
  KEM_ASSERT_OK(metered);
  auto plain = run_with(source, input, std::nullopt, /*unmetered=*/true);
  KEM_ASSERT_OK(plain);
  EXPECT_EQ(*metered, expected);
  EXPECT_EQ(*plain, expected);
}

// Issue 19: `b--b` is `b - -b` (WGSL has no prefix decrement), as Tint reads it.
TEST(Metering, DoubleMinusRunsAsTwoMinusSigns) {
  const std::string source = kHeader +
                             "@compute @workgroup_size(4) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
                             "  let b = i32(src[id.x]);\n"
                             "  var c = b--b;\n"
                             "  c = c * 100 + (7--b) + i32(src[2--1]);\n"
                             "  var d = 5i;\n"
                             "  d--;\n"
                             "  d = d--1i;\n"
                             "  dst[id.x] = u32(c + d + --b);\n"
                             "}\n";
  const std::vector<int32_t> in = {1, 2, 3, 40};
  std::vector<uint8_t> expected;
  for (int32_t b : in) {
    int32_t c = (b - (-b)) * 100 + (7 - (-b)) + in[3];
    int32_t d = 5 - 1;
    d = d - (-1);
    uint32_t out = static_cast<uint32_t>(c + d + (-(-b)));
    for (int k = 0; k < 4; ++k) expected.push_back(static_cast<uint8_t>(out >> (8 * k)));
  }
  expect_metered_and_plain(source, u32_bytes({1, 2, 3, 40}), expected);
}

// Issue 19: the shapes of Dawn's loops/loop.wgsl, loop_with_continuing.wgsl, nested_loops*.wgsl
// and a `for` without a condition: functions that return only from inside a loop without
// `break`. Their metered text must compile (no "missing return") and compute what they compute
// unmetered.
TEST(Metering, LoopsThatOnlyReturnCompileMeteredAndRunUnchanged) {
  const std::string source = kHeader +
      "fn f(n: i32) -> i32 { var i: i32; loop { i = i + 1; if (i > n) { return i; } } }\n"
      "fn fc(n: i32) -> i32 { var i: i32; loop { if (i > n) { return i; } continuing { i = i + 1; } } }\n"
      "fn nested(n: i32) -> i32 {\n"
      "  var i: i32; var j: i32;\n"
      "  loop { i = i + 1; if (i > n) { return 1; } loop { j = j + 1; if (j > n) { return 2; } } }\n"
      "}\n"
      "fn nested_c(n: i32) -> i32 {\n"
      "  var i: i32; var j: i32;\n"
      "  loop {\n"
      "    if (i > n) { return 1; }\n"
      "    loop { if (j > n) { return 2; } continuing { j = j + 1; } }\n"
      "    continuing { i = i + 1; }\n"
      "  }\n"
      "}\n"
      "fn g(n: u32) -> u32 { for (var k = 0u; ; k += 3u) { if (k >= n) { return k; } } }\n"
      "@compute @workgroup_size(4) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
      "  let s = i32(src[id.x]);\n"
      "  dst[id.x] = u32(f(s)) + 10u * u32(fc(s)) + 100u * u32(nested(s)) + 1000u * u32(nested_c(s)) +\n"
      "              10000u * g(src[id.x]);\n"
      "}\n";
  const std::vector<uint32_t> in = {0, 1, 5, 7};
  std::vector<uint8_t> expected;
  for (uint32_t n : in) {
    const uint32_t s = n;  // every input is >= 0
    const uint32_t f = s + 1, fc = s + 1, nested = s == 0 ? 1 : 2, nested_c = 2;
    const uint32_t g = (n + 2) / 3 * 3;
    const uint32_t out = f + 10 * fc + 100 * nested + 1000 * nested_c + 10000 * g;
    for (int k = 0; k < 4; ++k) expected.push_back(static_cast<uint8_t>(out >> (8 * k)));
  }
  expect_metered_and_plain(source, u32_bytes({0, 1, 5, 7}), expected);
  // And the budget still stops such a loop when it runs away: f(7) needs 8 iterations.
  auto over = run_with(source, u32_bytes({0, 1, 5, 7}), 5);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, ErrorCode::budget_exceeded) << over.error().message;
}

// The device's maxComputeWorkgroupStorageSize, from the adapter description.
uint32_t workgroup_storage_limit() {
  const std::string info = shared_executor().adapter_info_json();
  const std::string key = "\"max_compute_workgroup_storage_size\":";
  const size_t at = info.find(key);
  EXPECT_NE(at, std::string::npos) << info;
  return at == std::string::npos ? 16384 : static_cast<uint32_t>(std::stoul(info.substr(at + key.size())));
}

// Issue 19 (Dawn's bug/tint/914.wgsl, a tiled matmul): a kernel whose workgroup variables use
// exactly the device's limit has no room for the meter's 16-byte flag; its barrier loop is left
// by a function-scope count instead, and it compiles and runs metered as unmetered.
TEST(Metering, AKernelUsingAllWorkgroupStorageStillRunsMetered) {
  const uint32_t words = workgroup_storage_limit() / 4;
  const std::string w = std::to_string(words) + "u";
  const std::string source = kHeader +
      "var<workgroup> tile: array<u32, " + w + ">;\n"
      "@compute @workgroup_size(64) fn main(@builtin(local_invocation_index) l: u32) {\n"
      "  for (var i = l; i < " + w + "; i += 64u) { tile[i] = i; }\n"
      "  workgroupBarrier();\n"
      "  var acc = 0u;\n"
      "  for (var r = 0u; r < src[0]; r++) {\n"
      "    acc += tile[(l * 7u + r) % " + w + "];\n"
      "    workgroupBarrier();\n"
      "    if (l == 0u) { tile[r % " + w + "] += 1u; }\n"
      "    workgroupBarrier();\n"
      "  }\n"
      "  dst[l] = acc;\n"
      "}\n";
  const uint32_t rounds = 9;
  std::vector<uint32_t> tile(words), acc(64, 0);
  for (uint32_t i = 0; i < words; ++i) tile[i] = i;
  for (uint32_t r = 0; r < rounds; ++r) {
    for (uint32_t l = 0; l < 64; ++l) acc[l] += tile[(l * 7 + r) % words];
    tile[r % words] += 1;
  }
  std::vector<uint8_t> input(64 * 4, 0), expected;
  input[0] = static_cast<uint8_t>(rounds);
  for (uint32_t a : acc)
    for (int k = 0; k < 4; ++k) expected.push_back(static_cast<uint8_t>(a >> (8 * k)));
  // The rewrite the executor compiles does take the flag-less path.
  MeteringOptions options;
  options.workgroup_storage_limit = words * 4;
  Result<MeteredKernel> metered = meter_wgsl(source, options);
  KEM_ASSERT_OK(metered);
  EXPECT_EQ(metered->capped_loops, 1u);
  expect_metered_and_plain(source, input, expected);
  // The budget still holds: 9 rounds plus the fill loop's trips exceed a budget of 5.
  auto over = run_with(source, input, 5);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().code, ErrorCode::budget_exceeded) << over.error().message;
}

TEST(Metering, CompileErrorsInAMeteredKernelPointAtTheOriginalSource) {
  // The error sits on a line with a loop, where metering inserts text before the mistake.
  const std::string source = kHeader +
                             "@compute @workgroup_size(1) fn main() {\n"
                             "  var x = 0u;\n"
                             "  for (var i = 0u; i < 4u; i++) { x = x + oops; }\n"
                             "  dst[0] = x;\n"
                             "}\n";
  auto out = run_with(source, {1, 2, 3, 4});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::compile_error);
  // Line 5, column 43 of the user's text ("oops").
  EXPECT_EQ(out.error().message.rfind("5:43:", 0), 0u) << out.error().message;
}

void expect_budget_edge(const std::string& source, const std::vector<uint8_t>& input, uint64_t enough) {
  KEM_ASSERT_OK(run_with(source, input, enough));
  auto over = run_with(source, input, enough - 1);
  ASSERT_FALSE(over.ok()) << "a budget of " << enough - 1 << " was enough";
  EXPECT_EQ(over.error().code, ErrorCode::budget_exceeded) << over.error().message;
}

// Issue 19: a count from a barrier-free loop decides whether to reach a barrier. Each invocation
// leaving that loop on its own would make the count non-uniform to WGSL, and Dawn would reject
// the default rewrite of a valid kernel; the executor meters again with the loop left by the
// workgroup together (MeteringOptions::uniform_exits), and the budget stays exact.
TEST(Metering, ACountFromALoopMayDecideWhetherToReachABarrier) {
  const std::string source = kHeader +
                             "@compute @workgroup_size(4) fn main(@builtin(local_invocation_index) l: u32) {\n"
                             "  var n = 0u;\n"
                             "  for (var i = 0u; i < src[0]; i++) { n += 1u; }\n"
                             "  if (n > 3u) { workgroupBarrier(); }\n"
                             "  dst[l] = n;\n"
                             "}\n";
  // The default rewrite is the one Dawn rejects; the wider one widens exactly this loop.
  Result<MeteredKernel> plain_rewrite = meter_wgsl(source, MeteringOptions{});
  KEM_ASSERT_OK(plain_rewrite);
  EXPECT_EQ(plain_rewrite->widened_loops, 1u);
  EXPECT_EQ(plain_rewrite->uniform_loops, 0u);
  MeteringOptions wider;
  wider.uniform_exits = UniformExits::barrier_functions;
  Result<MeteredKernel> widened = meter_wgsl(source, wider);
  KEM_ASSERT_OK(widened);
  EXPECT_EQ(widened->uniform_loops, 1u);
  expect_metered_and_plain(source, u32_bytes({5, 0, 0, 0}), u32_bytes({5, 5, 5, 5}));
  expect_budget_edge(source, u32_bytes({5, 0, 0, 0}), 5);
}

// The same through a called function, whose loop the caller's barrier decision depends on.
TEST(Metering, ACountFromACalledFunctionsLoopMayDecideABarrier) {
  const std::string source = kHeader +
                             "fn count(m: u32) -> u32 {\n"
                             "  var n = 0u;\n"
                             "  while (n < m) { n += 1u; }\n"
                             "  return n;\n"
                             "}\n"
                             "@compute @workgroup_size(4) fn main(@builtin(local_invocation_index) l: u32) {\n"
                             "  let n = count(src[0]);\n"
                             "  if (n > 3u) { workgroupBarrier(); }\n"
                             "  dst[l] = n * 2u;\n"
                             "}\n";
  expect_metered_and_plain(source, u32_bytes({6, 0, 0, 0}), u32_bytes({12, 12, 12, 12}));
  expect_budget_edge(source, u32_bytes({6, 0, 0, 0}), 6);
}

// A loop inside a non-uniform `if` cannot be left together (workgroupUniformLoad must be in
// uniform control flow), so the second retry widens only the loops outside branches.
TEST(Metering, ALoopInANonUniformBranchKeepsItsOwnExit) {
  const std::string source = kHeader +
                             "@compute @workgroup_size(4) fn main(@builtin(local_invocation_index) l: u32) {\n"
                             "  var n = 0u;\n"
                             "  for (var i = 0u; i < src[0]; i++) { n += 1u; }\n"
                             "  var k = 0u;\n"
                             "  if (l == 0u) { for (var j = 0u; j < src[0]; j++) { k += 2u; } }\n"
                             "  if (n > 3u) { workgroupBarrier(); }\n"
                             "  dst[l] = n + k;\n"
                             "}\n";
  expect_metered_and_plain(source, u32_bytes({5, 0, 0, 0}), u32_bytes({15, 5, 5, 5}));
  // Invocation 0 runs both loops: 5 + 5 iterations.
  expect_budget_edge(source, u32_bytes({5, 0, 0, 0}), 10);
}

// When Dawn rejects every rewrite of a kernel that compiles as written (here the deciding loop
// lies in a uniform branch, and the other loop in a non-uniform one: the wider rewrite puts a
// workgroupUniformLoad there, the narrower widens neither), the error says that KEM's rewrite
// caused it, not the user's line alone.
TEST(Metering, ARewriteThatBreaksAValidKernelSaysSo) {
  const std::string source = kHeader +
                             "@compute @workgroup_size(4) fn main(@builtin(local_invocation_index) l: u32) {\n"
                             "  var n = 0u;\n"
                             "  if (src[1] == 0u) { for (var i = 0u; i < src[0]; i++) { n += 1u; } }\n"
                             "  var k = 0u;\n"
                             "  if (l == 0u) { for (var j = 0u; j < src[0]; j++) { k += 2u; } }\n"
                             "  if (n > 3u) { workgroupBarrier(); }\n"
                             "  dst[l] = n + k;\n"
                             "}\n";
  auto plain = run_with(source, u32_bytes({5, 0, 0, 0}), std::nullopt, /*unmetered=*/true);
  KEM_ASSERT_OK(plain);
  EXPECT_EQ(*plain, u32_bytes({15, 5, 5, 5}));
  auto metered = run_with(source, u32_bytes({5, 0, 0, 0}));
  ASSERT_FALSE(metered.ok());
  EXPECT_EQ(metered.error().code, ErrorCode::compile_error);
  EXPECT_EQ(metered.error().message.rfind("KEM's loop metering rewrite made this kernel invalid, although the "
                                          "kernel as written compiles: the fault is KEM's, not the kernel's",
                                          0),
            0u)
      << metered.error().message;
  EXPECT_NE(metered.error().message.find("uniform control flow"), std::string::npos) << metered.error().message;
}

TEST(Metering, AKernelMayNotDeclareTheReservedBinding) {
  const std::string source = kHeader +
                             "@group(0) @binding(15) var<storage, read_write> mine: array<u32>;\n"
                             "@compute @workgroup_size(1) fn main() { dst[0] = src[0]; mine[0] = 1u; }\n";
  auto out = run_with(source, {1, 2, 3, 4});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::compile_error) << out.error().message;
}

// Issue 13: a metered cold compile tokenizes and parses the user's source once, shared by
// reflection and loop metering; a warm call reads it not at all.
TEST(Metering, AColdMeteredCompileReadsTheSourceOnce) {
  // Every kind of loop metering handles: ticked, charged before it starts, charged as it starts.
  const std::string source = kHeader +
                             "// issue 13: a kernel no other test compiles\n"
                             "@compute @workgroup_size(1) fn main() {\n"
                             "  var total = 0u;\n"
                             "  for (var i = 0u; i < 8u; i++) { total += i; }\n"
                             "  for (var i = 0u; i < src[0]; i++) { total += i; }\n"
                             "  var j = 0u;\n"
                             "  loop { j++; if (j >= src[1]) { break; } }\n"
                             "  dst[0] = total + j;\n"
                             "}\n";
  KEM_ASSERT_OK(run(read_kernel("double-integer.wgsl"), {1, 2, 3, 4}));  // the executor is up
  const wgsl::FrontEndRuns before = wgsl::front_end_runs();
  auto cold = run_with(source, u32_bytes({4, 3}));
  KEM_ASSERT_OK(cold);
  EXPECT_EQ(*cold, u32_bytes({28 + 6 + 3, 0}));
  const wgsl::FrontEndRuns after = wgsl::front_end_runs();
  EXPECT_EQ(after.tokenizations - before.tokenizations, 1u);
  EXPECT_EQ(after.parses - before.parses, 1u);

  auto warm = run_with(source, u32_bytes({4, 3}));
  KEM_ASSERT_OK(warm);
  const wgsl::FrontEndRuns again = wgsl::front_end_runs();
  EXPECT_EQ(again.tokenizations, after.tokenizations);
  EXPECT_EQ(again.parses, after.parses);
}

}  // namespace
}  // namespace kem::test
