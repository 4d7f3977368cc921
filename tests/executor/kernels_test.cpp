// Every example kernel in kernels/ against a CPU reference.
#include "test_support.h"

namespace kem::test {
namespace {

TEST(ExampleKernels, DoubleIntegerMatchesTheIssueExample) {
  auto out = run(read_kernel("double-integer.wgsl"), {1, 3, 5, 7});
  KEM_ASSERT_OK(out);
  EXPECT_EQ(*out, (std::vector<uint8_t>{2, 6, 10, 14}));
}

TEST(ExampleKernels, DoubleIntegerOnRandomInputWithHints) {
  const std::string source = read_kernel("double-integer.wgsl");
  for (uint64_t hint : {1u, 2u, 3u}) {
    auto input = random_bytes(4096 + 12, 7 + static_cast<uint32_t>(hint));
    auto out = run(source, input, hint);
    KEM_ASSERT_OK(out);
    // Output words past the input's words stay zero (zero-initialised output).
    EXPECT_EQ(*out, doubled(input, input.size() * hint)) << "hint " << hint;
  }
}

TEST(ExampleKernels, InputLengthsThatAreNotWordMultiples) {
  const std::string source = read_kernel("double-integer.wgsl");
  for (size_t n : {1u, 2u, 3u, 5u, 6u, 7u, 13u, 1023u}) {
    auto input = random_bytes(n, static_cast<uint32_t>(n));
    auto out = run(source, input);
    KEM_ASSERT_OK(out);
    ASSERT_EQ(out->size(), n);
    EXPECT_EQ(*out, doubled(input, n)) << n << " bytes";
  }
}

TEST(ExampleKernels, Pixelize) {
  const uint32_t width = 37, height = 23, block = 4;
  auto image = random_bytes(width * height * 4, 99);
  auto pixels = to_words(image);
  std::vector<uint32_t> expected(pixels.size());
  for (uint32_t y = 0; y < height; ++y)
    for (uint32_t x = 0; x < width; ++x) {
      uint32_t x0 = x - x % block, y0 = y - y % block;
      uint32_t x1 = std::min(x0 + block, width), y1 = std::min(y0 + block, height);
      uint32_t sum[4] = {0, 0, 0, 0};
      for (uint32_t yy = y0; yy < y1; ++yy)
        for (uint32_t xx = x0; xx < x1; ++xx)
          for (int c = 0; c < 4; ++c) sum[c] += (pixels[yy * width + xx] >> (8 * c)) & 0xff;
      uint32_t n = (x1 - x0) * (y1 - y0), packed = 0;
      for (int c = 0; c < 4; ++c) packed |= (sum[c] / n) << (8 * c);
      expected[y * width + x] = packed;
    }
  auto params = u32_bytes({width, height, block});
  KernelRequest request;
  const std::string source = read_kernel("pixelize.wgsl");
  request.source = source;
  request.input = image;
  request.params = params;
  auto out = shared_executor().run(request);
  KEM_ASSERT_OK(out);
  EXPECT_EQ(*out, to_bytes(expected, image.size()));
}

TEST(ExampleKernels, WorkgroupSum) {
  auto input = random_bytes(256 * 4 * 5 + 44, 5);  // 5 full slices and a partial one
  auto words = to_words(input);
  std::vector<uint32_t> expected(words.size(), 0);
  for (size_t i = 0; i < words.size(); ++i) expected[i / 256] += words[i];
  auto out = run(read_kernel("workgroup-sum.wgsl"), input);
  KEM_ASSERT_OK(out);
  EXPECT_EQ(*out, to_bytes(expected, input.size()));
}

TEST(ExampleKernels, ByteHistogramWithOneAndManyWorkgroups) {
  auto input = random_bytes(100003, 11);
  std::vector<uint32_t> expected(256, 0);
  for (uint8_t b : input) ++expected[b];
  auto params = u32_bytes({static_cast<uint32_t>(input.size())});
  const std::string source = read_kernel("byte-histogram.wgsl");
  for (uint32_t groups : {1u, 7u, 64u}) {
    KernelRequest request;
    request.source = source;
    request.input = input;
    request.params = params;
    request.output_size = 1024;
    request.workgroups = std::array<uint32_t, 3>{groups, 1, 1};
    auto out = shared_executor().run(request);
    KEM_ASSERT_OK(out);
    EXPECT_EQ(*out, to_bytes(expected, 1024)) << groups << " workgroups";
  }
}

TEST(ExampleKernels, SecondRunOfAKernelDoesNotCompileAgain) {
  const std::string source = read_kernel("double-integer.wgsl") + "\n// unique to this test\n";
  auto before = shared_executor().stats();
  KEM_ASSERT_OK(run(source, {1, 2, 3, 4}));
  KEM_ASSERT_OK(run(source, {5, 6, 7, 8}));
  auto after = shared_executor().stats();
  EXPECT_EQ(after.pipeline_misses - before.pipeline_misses, 1u);
  EXPECT_EQ(after.pipeline_hits - before.pipeline_hits, 1u);
}

TEST(ExampleKernels, SixtyFourMebibyteInput) {
  std::vector<uint8_t> input(64u << 20);
  for (size_t i = 0; i < input.size(); i += 4) {
    uint32_t w = static_cast<uint32_t>(i * 2654435761u);
    std::memcpy(&input[i], &w, 4);
  }
  auto out = run(read_kernel("double-integer.wgsl"), input);
  KEM_ASSERT_OK(out);
  ASSERT_EQ(out->size(), input.size());
  EXPECT_TRUE(*out == doubled(input, input.size()));
}

}  // namespace
}  // namespace kem::test
