// Kernels written for the proof of concept run unchanged (docs/kernel-contract.md, "Kernels
// written for the proof of concept"). The proof of concept (a wgpu NIF) bound the input at
// @binding(0) (storage, read), the output at @binding(1) (storage, read_write) and params at
// @binding(2) (uniform, its bytes as sent); it dispatched ceil(ceil(output / 4) / 256)
// workgroups for 256-thread kernels, and ceil(width / 16) x ceil(height / 16) for 16 x 16 image
// kernels, whatever they declared. Each test is a kernel in that style against a CPU reference.
#include "test_support.h"

namespace kem::test {
namespace {

// The proof of concept's skeleton (its README: u32 arrays, a 256-thread workgroup, entry main)
// with a body that checks its index, as its kernels had to: its dispatch rounded the output's
// words up to a multiple of 256, and so does KEM's for a 256-thread kernel.
const char* const kSkeletonDouble = R"(
@group(0) @binding(0)
var<storage, read> input_bytes: array<u32>;
@group(0) @binding(1)
var<storage, read_write> output_bytes: array<u32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) global_id: vec3<u32>) {
  let i = global_id.x;
  if (i < arrayLength(&input_bytes)) {
    output_bytes[i] = input_bytes[i] * 2u;
  }
}
)";

TEST(ProofOfConceptKernels, TheSkeletonDoublesEveryWordOfAnyLengthAndHint) {
  // Lengths around the 256-word workgroup and not word multiples (zero-padded, as wgpu pads).
  for (size_t n : {1u, 4u, 1023u, 1024u, 1025u, 4099u}) {
    for (uint64_t hint : {1u, 2u}) {
      auto input = random_bytes(n, static_cast<uint32_t>(n + hint));
      auto out = run(kSkeletonDouble, input, hint);
      KEM_ASSERT_OK(out);
      // Output: input length x hint bytes, zero where the kernel wrote nothing.
      EXPECT_EQ(*out, doubled(input, n * hint)) << n << " bytes, hint " << hint;
    }
  }
}

// An image kernel as the proof of concept's execute_kernel_with_params ran them: 16 x 16
// workgroups, params {width, height, pixel_size} as a 12-byte uniform struct, RGBA8 pixels as
// u32 words. It inverts each pixel's colour channels (keeping alpha) when pixel_size is odd and
// copies the pixel when it is even, so that the third params word matters.
const char* const kImageKernel = R"(
struct Params {
  width: u32,
  height: u32,
  pixel_size: u32,
}
@group(0) @binding(0) var<storage, read> input_image: array<u32>;
@group(0) @binding(1) var<storage, read_write> output_image: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;
@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) global_id: vec3<u32>) {
  let x = global_id.x;
  let y = global_id.y;
  if (x >= params.width || y >= params.height) {
    return;
  }
  let i = y * params.width + x;
  let p = input_image[i];
  if (params.pixel_size % 2u == 1u) {
    output_image[i] = (0x00ffffffu - (p & 0x00ffffffu)) | (p & 0xff000000u);
  } else {
    output_image[i] = p;
  }
}
)";

TEST(ProofOfConceptKernels, AnImageKernelWithSixteenBySixteenWorkgroupsCoversEveryPixel) {
  // Sizes that are and are not multiples of 16, one of them thinner than a workgroup.
  for (auto [width, height] : {std::pair{16u, 16u}, std::pair{37u, 23u}, std::pair{5u, 300u}}) {
    for (uint32_t pixel_size : {1u, 2u}) {
      auto image = random_bytes(size_t{width} * height * 4, width * 31 + pixel_size);
      auto words = to_words(image);
      for (auto& p : words)
        if (pixel_size % 2 == 1) p = (0x00ffffffu - (p & 0x00ffffffu)) | (p & 0xff000000u);
      KernelRequest request;
      request.source = kImageKernel;
      request.input = image;
      auto params = u32_bytes({width, height, pixel_size});  // 12 bytes, as the proof of concept sent
      request.params = params;
      auto out = shared_executor().run(request);
      KEM_ASSERT_OK(out);
      EXPECT_EQ(*out, to_bytes(words, image.size())) << width << "x" << height;
    }
  }
}

}  // namespace
}  // namespace kem::test
