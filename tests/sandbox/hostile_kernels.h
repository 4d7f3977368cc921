// Kernels that hurt a driver's compiler (issue 16, all measured on lavapipe), and an honest one.
#pragma once

#include <string>

namespace kem::test {

// lavapipe's compiler divides INT_MIN by -1 while it creates this pipeline: SIGFPE.
inline const char* const kSigfpeKernel =
    "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
    "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
    "@compute @workgroup_size(1) fn main() {\n"
    "  for (var k = 0; k >= -2147483647 - 1; k--) { output[0] = 1u; }\n"
    "}\n";

// `depth` functions, each calling the previous one twice: about 1.2 KB for 22, and 2^21 copies
// of the first once the compiler inlines them all (20+ GB on lavapipe).
inline std::string call_tree_kernel(int depth = 22) {
  std::string s =
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "fn f0(x: u32) -> u32 { return x * 3u + 1u; }\n";
  for (int i = 1; i < depth; ++i)
    s += "fn f" + std::to_string(i) + "(x: u32) -> u32 { return f" + std::to_string(i - 1) + "(x) + f" +
         std::to_string(i - 1) + "(x ^ " + std::to_string(i) + "u); }\n";
  s += "@compute @workgroup_size(1) fn main() { output[0] = f" + std::to_string(depth - 1) + "(input[0]); }\n";
  return s;
}

// About `bytes` of straight-line code in one entry point (no loop: metering adds nothing).
inline std::string straight_line_kernel(size_t bytes) {
  std::string s =
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@compute @workgroup_size(1) fn main() {\n"
      "  var x = input[0];\n";
  for (uint32_t i = 0; s.size() < bytes; ++i)
    s += "  x = (x ^ " + std::to_string(i) + "u) * 2654435761u + (x >> 13u);\n";
  s += "  output[0] = x;\n}\n";
  return s;
}

}  // namespace kem::test
