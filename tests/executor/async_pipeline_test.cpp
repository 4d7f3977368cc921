// Dawn's asynchronous pipeline creation on the real adapter (src/webgpu/device.h,
// start_pipeline / finish_pipeline): the driver's compile of a large kernel happens off the
// calling thread, which can drive the device meanwhile; its result is the same pipeline.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "webgpu/device.h"
#include "webgpu/instance.h"

namespace kem::gpu {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Straight-line code of about `bytes`, each statement depending on the previous one: the
// driver's compile takes grows faster than the size on lavapipe (a minute at 24 KB).
std::string straight_line_kernel(size_t bytes) {
  std::string s =
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@compute @workgroup_size(1) fn main() {\n  var x = input[0];\n";
  for (uint32_t i = 0; s.size() < bytes; ++i) s += "  x = x * 3u + " + std::to_string(i % 1000) + "u;\n";
  return s + "  output[0] = x;\n}\n";
}

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

TEST(AsyncPipeline, TheDriversCompileHappensOffTheCallingThread) {
  auto instance = Instance::create();
  ASSERT_TRUE(instance) << instance.error().message;
  auto adapter = (*instance)->request_adapter("");
  ASSERT_TRUE(adapter) << adapter.error().message;
  auto device = Device::create(**instance, *adapter);
  ASSERT_TRUE(device) << device.error().message;
  Device& d = **device;
  auto layout = d.create_bind_group_layout({{0, BindingKind::read_only_storage}, {1, BindingKind::storage}});
  ASSERT_TRUE(layout) << layout.error().message;
  const std::string source = straight_line_kernel(6 << 10);
  auto module = d.compile(source);
  ASSERT_TRUE(module) << module.error().message;

  // The same kernel twice would hit Dawn's cache: the synchronous one gets its own constant.
  auto sync_module = d.compile(source + "const kem_unused = 1u;\n");
  ASSERT_TRUE(sync_module) << sync_module.error().message;
  const auto sync_start = Clock::now();
  auto sync = d.create_pipeline(sync_module->get(), layout->get(), "main");
  const double sync_ms = ms_since(sync_start);
  ASSERT_TRUE(sync) << sync.error().message;

  const auto start = Clock::now();
  auto pending = d.start_pipeline(module->get(), layout->get(), "main");
  const double start_ms = ms_since(start);
  ASSERT_TRUE(pending) << pending.error().message;
  auto first_look = d.finish_pipeline(*pending, 0ns);
  std::optional<Result<ComputePipelineHandle>> done;
  int looks = 0;
  while (!(done = d.finish_pipeline(*pending, 1ms))) ++looks;
  const double total_ms = ms_since(start);
  ASSERT_TRUE(*done) << done->error().message;
  EXPECT_NE(done->value().get(), nullptr);
  std::printf("[ async    ] 6 KB kernel: synchronous pipeline %.0f ms; asynchronous: started in %.1f ms, "
              "ready after %.0f ms (%d looks meanwhile)\n", sync_ms, start_ms, total_ms, looks);
  EXPECT_FALSE(first_look.has_value()) << "the pipeline was ready at once: the compile ran inside start_pipeline";
  EXPECT_LT(start_ms, sync_ms / 4);
}

}  // namespace
}  // namespace kem::gpu
