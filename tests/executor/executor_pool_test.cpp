// The executor pool: two real devices on the same lavapipe adapter, load spread over both, exact
// results, a device lost under load while the other serves, affinity, errors not retried.
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <thread>

#include "kem/executor_pool.h"
#include "test_support.h"
#include "webgpu/instance.h"

namespace kem::test {
namespace {

using namespace std::chrono_literals;

// kSpinKernel's whole output on the CPU.
std::vector<uint8_t> spun(uint32_t iterations, size_t words) {
  std::vector<uint32_t> out(words);
  for (uint32_t id = 0; id < words; ++id) out[id] = spin_reference(id, iterations);
  return to_bytes(out, words * 4);
}

std::vector<uint8_t> spin_input(uint32_t iterations, size_t words) {
  std::vector<uint32_t> in(words, 0);
  in[0] = iterations;
  return to_bytes(in, words * 4);
}

std::unique_ptr<ExecutorPool> two_device_pool() {
  ExecutorPoolOptions options;
  options.executor.loop_budget = kSpinLoopBudget;  // spin_iterations_lasting
  // The default adapter twice: lavapipe here. ("cpu" asks Dawn for a fallback adapter, and this
  // Dawn flags only SwiftShader as one, not lavapipe.)
  options.adapters = {"", ""};
  options.reconnect_first_delay = 10ms;
  auto pool = ExecutorPool::create(options);
  if (!pool) {
    ADD_FAILURE() << "pool: " << pool.error().message;
    return nullptr;
  }
  return std::move(pool).value();
}

KernelRequest doubling(const std::string& source, const std::vector<uint8_t>& input) {
  KernelRequest r;
  r.source = source;
  r.input = input;
  return r;
}

// `threads` callers each run `calls` doublings of random inputs; returns how many results were
// wrong or failed (with the first failure's message in `first_failure`).
int hammer(ExecutorPool& pool, const std::string& source, int threads, int calls, uint32_t seed,
           std::string& first_failure, const std::function<void(int)>& after_call = {}) {
  std::atomic<int> bad{0}, done{0};
  std::mutex m;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int c = 0; c < calls; ++c) {
        auto input = random_bytes(4 + (seed + t * 131 + c * 17) % 8192, seed * 1000 + t * 100 + c);
        auto out = pool.run(doubling(source, input));
        if (!out || *out != doubled(input, input.size())) {
          std::lock_guard lock(m);
          if (bad++ == 0) first_failure = out ? "wrong result" : out.error().message;
        }
        if (after_call) after_call(++done);
      }
    });
  }
  for (auto& w : workers) w.join();
  return bad;
}

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds limit = 10s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(ExecutorPool, BothDevicesServeConcurrentCallersWithExactResults) {
  auto pool = two_device_pool();
  ASSERT_TRUE(pool);
  ASSERT_EQ(pool->size(), 2u);
  const std::string source = read_kernel("double-integer.wgsl");
  std::string failure;
  EXPECT_EQ(hammer(*pool, source, 16, 25, 1, failure), 0) << failure;
  auto s = pool->stats();
  EXPECT_GT(s.devices[0].executor.calls, 0u);
  EXPECT_GT(s.devices[1].executor.calls, 0u);
  EXPECT_EQ(s.total.calls, 16u * 25u);
  EXPECT_EQ(s.devices[0].executor.calls + s.devices[1].executor.calls, s.total.calls);
  EXPECT_EQ(s.total.errors, 0u);
  EXPECT_EQ(s.retries, 0u);
  EXPECT_EQ(pool->queue_depth(), 0u);
}

TEST(ExecutorPool, SubmitCompletesEveryCallOnceWithItsOwnResult) {
  auto pool = two_device_pool();
  ASSERT_TRUE(pool);
  const std::string source = read_kernel("double-integer.wgsl");
  constexpr int kCalls = 200;
  std::vector<std::vector<uint8_t>> inputs;
  for (int i = 0; i < kCalls; ++i) inputs.push_back(random_bytes(4 * (1 + i % 300), 7000 + i));
  std::vector<std::promise<bool>> results(kCalls);
  for (int i = 0; i < kCalls; ++i) {
    pool->submit(doubling(source, inputs[i]), [&, i](Result<OutputView> out) {
      results[i].set_value(out && std::equal(out->begin(), out->end(), doubled(inputs[i], inputs[i].size()).begin()) &&
                           out->size() == inputs[i].size());
    });
  }
  for (int i = 0; i < kCalls; ++i) EXPECT_TRUE(results[i].get_future().get()) << "call " << i;
}

TEST(ExecutorPool, ADeviceDestroyedUnderLoadLeavesTheOtherServingThenComesBack) {
  auto pool = two_device_pool();
  ASSERT_TRUE(pool);
  const std::string source = read_kernel("double-integer.wgsl");
  std::string failure;
  std::atomic<bool> destroyed{false};
  std::thread destroyer;
  // Device 1 is destroyed once a quarter of the calls are done, while the callers keep going.
  int bad = hammer(*pool, source, 12, 40, 2, failure, [&](int done) {
    if (done == 120 && !destroyed.exchange(true)) destroyer = std::thread([&] { pool->simulate_device_loss(1); });
  });
  destroyer.join();
  EXPECT_EQ(bad, 0) << failure;  // no wrong result, no failed call

  // Out of the rotation, then back once the reconnect thread made a new device.
  ASSERT_TRUE(wait_until([&] { return pool->stats().devices[1].in_rotation; })) << pool->adapter_info_json();
  auto s = pool->stats();
  EXPECT_GE(s.devices[1].removals, 1u);
  EXPECT_EQ(s.devices[1].executor.device_losses, 1u);
  EXPECT_EQ(s.devices[0].executor.device_losses, 0u);
  EXPECT_LE(s.retries, 1u);  // a loss between calls loses no call; at most the documented retry
  EXPECT_TRUE(s.devices[1].healthy);

  // Back in the rotation means used again.
  const uint64_t before = s.devices[1].executor.calls;
  EXPECT_EQ(hammer(*pool, source, 8, 20, 3, failure), 0) << failure;
  EXPECT_GT(pool->stats().devices[1].executor.calls, before);
}

// The device the pool sends an idle kernel to (after warming it there).
size_t warm_device_of(ExecutorPool& pool, const std::string& source) {
  std::vector<uint8_t> input{1, 0, 0, 0};
  auto before = pool.stats();
  EXPECT_TRUE(pool.run(doubling(source, input)).ok());
  auto after = pool.stats();
  return after.devices[0].executor.calls > before.devices[0].executor.calls ? 0 : 1;
}

TEST(ExecutorPool, ACallLostWithItsDeviceIsRetriedOnceOnTheOther) {
  auto pool = two_device_pool();
  ASSERT_TRUE(pool);
  const std::string source = read_kernel("double-integer.wgsl");
  const size_t warm = warm_device_of(*pool, source);
  pool->lose_device_during_next_call(warm);
  auto input = random_bytes(4096, 11);
  auto out = pool->run(doubling(source, input));  // affinity sends it to the warm device
  KEM_ASSERT_OK(out);
  EXPECT_EQ(*out, doubled(input, input.size()));
  auto s = pool->stats();
  EXPECT_EQ(s.retries, 1u);
  EXPECT_EQ(s.devices[warm].retried_elsewhere, 1u);
  EXPECT_EQ(s.devices[1 - warm].retried_elsewhere, 0u);
  EXPECT_EQ(s.devices[1 - warm].executor.calls, 1u);  // the retry
  // The lost device was destroyed, replaced, and is back.
  ASSERT_TRUE(wait_until([&] { return pool->stats().devices[warm].in_rotation; }));
  EXPECT_EQ(pool->stats().devices[warm].executor.device_losses, 1u);
}

TEST(ExecutorPool, ACallIsNeverRetriedTwice) {
  auto pool = two_device_pool();
  ASSERT_TRUE(pool);
  const std::string source = read_kernel("double-integer.wgsl");
  pool->lose_device_during_next_call(0);
  pool->lose_device_during_next_call(1);
  std::vector<uint8_t> input{1, 2, 3, 4};
  auto out = pool->run(doubling(source, input));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::device_lost) << out.error().message;
  EXPECT_EQ(pool->stats().retries, 1u);
  // Both come back and serve.
  ASSERT_TRUE(wait_until([&] {
    auto s = pool->stats();
    return s.devices[0].in_rotation && s.devices[1].in_rotation;
  }));
  auto again = pool->run(doubling(source, input));
  KEM_ASSERT_OK(again);
  EXPECT_EQ(*again, doubled(input, input.size()));
}

TEST(ExecutorPool, AffinityKeepsEachKernelOnItsWarmDevice) {
  auto pool = two_device_pool();
  ASSERT_TRUE(pool);
  // Three distinct kernels (distinct sources are distinct pipelines), called in turn by one
  // caller: each is compiled once, on one device, and stays there. Without affinity the turns
  // of the idle devices would compile every kernel on both.
  const std::string base = read_kernel("double-integer.wgsl");
  std::vector<std::string> kernels;
  for (int k = 0; k < 3; ++k) kernels.push_back(base + "\n// variant " + std::to_string(k) + "\n");
  for (int i = 0; i < 30; ++i) {
    auto input = random_bytes(4 * (1 + i), 500 + i);
    auto out = pool->run(doubling(kernels[i % 3], input));
    KEM_ASSERT_OK(out);
    EXPECT_EQ(*out, doubled(input, input.size()));
  }
  auto s = pool->stats();
  EXPECT_EQ(s.total.pipeline_misses, 3u);
  EXPECT_EQ(s.total.pipeline_hits, 27u);
}

TEST(ExecutorPool, ABusyWarmDeviceLosesToAnIdleOne) {
  auto pool = two_device_pool();
  ASSERT_TRUE(pool);
  constexpr size_t kWords = 1024;
  auto quick_input = spin_input(3, kWords);
  KernelRequest quick;
  quick.source = kSpinKernel;
  quick.input = quick_input;
  const size_t warm = warm_device_of(*pool, kSpinKernel);

  // A long call on the warm device (about a second on this adapter, measured)...
  const uint32_t slow_iterations = spin_iterations_lasting(*pool, std::chrono::seconds(1), kWords);
  auto slow_input = spin_input(slow_iterations, kWords);
  KernelRequest slow = quick;
  slow.input = slow_input;
  std::promise<Result<std::vector<uint8_t>>> slow_result;
  pool->submit(slow, [&](Result<OutputView> out) {
    if (out) slow_result.set_value(std::vector<uint8_t>(out->begin(), out->end()));
    else slow_result.set_value(out.take_error());
  });
  auto slow_future = slow_result.get_future();
  // ...does not hold up the next call of the same kernel: the idle device takes it.
  auto out = pool->run(quick);
  KEM_ASSERT_OK(out);
  EXPECT_EQ(*out, spun(3, kWords));
  EXPECT_EQ(pool->stats().devices[1 - warm].executor.calls, 1u);
  EXPECT_EQ(slow_future.wait_for(0s), std::future_status::timeout) << "the slow call was not slow";

  auto slow_out = slow_future.get();
  KEM_ASSERT_OK(slow_out);
  EXPECT_EQ(*slow_out, spun(slow_iterations, kWords));
}

// When every device is busy the pool sends a kernel to its warm device; if that device's
// admission control refuses the call (a measured slow call ahead of it), the pool hands it to
// another device instead of answering `unavailable`. (Both devices share this machine's CPU, so
// the retried call may still run slowly there: what it returns is exact, or a timeout, never
// the refusal.)
TEST(ExecutorPool, ACallRefusedByABusyDeviceIsRetriedOnTheOther) {
  ExecutorPoolOptions options;
  options.adapters = {"", ""};
  options.affinity_slack = 1000;  // among busy devices, the warm one wins however loaded
  auto created = ExecutorPool::create(options);
  KEM_ASSERT_OK(created);
  ExecutorPool& pool = **created;
  constexpr size_t kWords = 1024;
  constexpr uint32_t kRounds = 1u << 19;
  auto slow_input = spin_input(kRounds, kWords);
  KernelRequest slow;
  slow.source = kSpinKernel;
  slow.input = slow_input;
  // Measured on its warm device; `one` is the shorter of two warm calls (the first call also
  // compiles), as admission estimates by the shortest: a call slowed by the machine's other
  // work would make `one`, and the hurried call's timeout below, too long to be refused.
  KEM_ASSERT_OK(pool.run(slow));
  auto one = std::chrono::steady_clock::duration::max();
  for (int i = 0; i < 2; ++i) {
    const auto start = std::chrono::steady_clock::now();
    KEM_ASSERT_OK(pool.run(slow));
    one = std::min(one, std::chrono::steady_clock::now() - start);
  }
  const auto before = pool.stats();
  const size_t warm = before.devices[0].executor.calls > 0 ? 0 : 1;
  ASSERT_EQ(before.devices[1 - warm].executor.calls, 0u);

  std::promise<Result<std::vector<uint8_t>>> results[3];
  auto into = [&](int i) {
    return [&results, i](Result<OutputView> out) {
      if (out) results[i].set_value(std::vector<uint8_t>(out->begin(), out->end()));
      else results[i].set_value(out.take_error());
    };
  };
  pool.submit(slow, into(0));  // the warm device
  pool.submit(slow, into(1));  // the idle one
  // Both busy: the warm device, where behind the first call it cannot finish in 1.5 calls' time.
  KernelRequest hurried = slow;
  hurried.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(one * 1.5);
  pool.submit(hurried, into(2));
  for (int i = 0; i < 3; ++i) {
    auto out = results[i].get_future().get();
    if (i < 2) {
      KEM_ASSERT_OK(out);
    }
    if (out.ok()) EXPECT_EQ(*out, spun(kRounds, kWords)) << "call " << i;
    else EXPECT_EQ(out.error().code, ErrorCode::timeout) << out.error().message;
  }
  const auto after = pool.stats();
  EXPECT_EQ(after.devices[warm].executor.refused, 1u);
  // The warm device ran the first call. A refusal at submit is not one of its calls; one at
  // planning (the call was queued, then its deadline no longer fitted) is, as an error: which
  // of the two happens depends on how far the first call got.
  const uint64_t refused_in_queue = after.devices[warm].executor.errors - before.devices[warm].executor.errors;
  EXPECT_LE(refused_in_queue, 1u);
  EXPECT_EQ(after.devices[warm].executor.calls - before.devices[warm].executor.calls, 1u + refused_in_queue);
  EXPECT_EQ(after.devices[1 - warm].executor.calls, 2u);  // the second call, and the retried one
  EXPECT_EQ(after.retries, before.retries);                // not counted as a loss
}

TEST(ExecutorPool, KernelAndRequestErrorsAreReturnedNotRetried) {
  auto pool = two_device_pool();
  ASSERT_TRUE(pool);
  const std::string broken =
      "@group(0) @binding(0) var<storage, read> input: array<u32>;\n"
      "@group(0) @binding(1) var<storage, read_write> output: array<u32>;\n"
      "@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {\n"
      "  output[id.x] = undefined_name;\n"
      "}\n";
  std::vector<uint8_t> input{1, 2, 3, 4};
  auto out = pool->run(doubling(broken, input));
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::compile_error);
  EXPECT_NE(out.error().message.find("4:"), std::string::npos) << out.error().message;

  auto checked = pool->check(broken);
  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.error().code, ErrorCode::compile_error);

  const std::string source = read_kernel("double-integer.wgsl");
  KernelRequest bad_timeout = doubling(source, input);
  bad_timeout.timeout = 0ms;
  auto rejected = pool->run(bad_timeout);
  ASSERT_FALSE(rejected.ok());
  EXPECT_EQ(rejected.error().code, ErrorCode::invalid_argument);

  KernelRequest bad_hint = doubling(source, input);
  bad_hint.output_size_hint = 0;
  auto refused = pool->run(bad_hint);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::invalid_argument) << refused.error().message;

  auto s = pool->stats();
  EXPECT_EQ(s.retries, 0u);
  for (const auto& d : s.devices) {
    EXPECT_TRUE(d.in_rotation);
    EXPECT_EQ(d.removals, 0u);
  }
  auto reflection = pool->check(source);
  KEM_ASSERT_OK(reflection);
}

TEST(ExecutorPool, AdapterInfoListsEveryDeviceWithItsLoadAndHealth) {
  auto pool = two_device_pool();
  ASSERT_TRUE(pool);
  const std::string source = read_kernel("double-integer.wgsl");
  std::string failure;
  ASSERT_EQ(hammer(*pool, source, 4, 10, 4, failure), 0) << failure;
  auto info = nlohmann::json::parse(pool->adapter_info_json());
  ASSERT_EQ(info["devices"].size(), 2u);
  auto s = pool->stats();
  for (size_t i = 0; i < 2; ++i) {
    const auto& d = info["devices"][i];
    EXPECT_EQ(d["index"], i);
    EXPECT_EQ(d["adapter"]["backend"], "vulkan");
    EXPECT_EQ(d["healthy"], true);
    EXPECT_EQ(d["in_rotation"], true);
    EXPECT_EQ(d["queue_depth"], 0u);
    EXPECT_EQ(d["calls"], s.devices[i].executor.calls);
  }
  EXPECT_EQ(info["total"]["calls"], 40u);
  EXPECT_EQ(info["retries"], 0u);
}

TEST(ExecutorPool, BadOptionsAreErrors) {
  ExecutorPoolOptions none;
  none.devices_per_adapter = 0;
  auto a = ExecutorPool::create(none);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, ErrorCode::invalid_argument);

  unsetenv("KEM_ADAPTER");  // the selectors are the subject here (each test is its own process)
  ExecutorPoolOptions missing;
  missing.adapters = {"", "no-such-gpu-anywhere"};
  auto b = ExecutorPool::create(missing);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code, ErrorCode::no_adapter);
  EXPECT_NE(b.error().message.find("device 1"), std::string::npos) << b.error().message;
}

// Dawn's enumeration sees every physical device, which is what reaches the second of two
// identical GPUs; it must at least find the default adapter (lavapipe in CI, the GPU on the GPU
// machine), and "@N" must select each.
TEST(PoolAdapters, DawnEnumeratesPhysicalAdaptersAndAtSelectorsPickThem) {
  auto instance = gpu::Instance::create();
  KEM_ASSERT_OK(instance);
  auto all = (*instance)->enumerate_adapters();
  ASSERT_TRUE(all.has_value()) << "libwebgpu_wrapper.so should export dawn::native's enumeration";
  ASSERT_FALSE(all->empty());
  auto default_adapter = (*instance)->request_adapter("");
  KEM_ASSERT_OK(default_adapter);
  bool found_default = false;
  for (const auto& a : *all) {
    EXPECT_FALSE(a.description.is_null_backend);
    found_default |= a.description.device == default_adapter->description.device;
  }
  EXPECT_TRUE(found_default) << default_adapter->description.device;
  for (size_t i = 0; i < all->size(); ++i) {
    auto chosen = (*instance)->request_adapter("@" + std::to_string(i));
    KEM_ASSERT_OK(chosen);
    EXPECT_EQ(chosen->description.device, (*all)[i].description.device);
  }
  auto past = (*instance)->request_adapter("@" + std::to_string(all->size()));
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().code, ErrorCode::no_adapter);
  auto malformed = (*instance)->request_adapter("@x");
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code, ErrorCode::invalid_argument);
}

// "Every GPU" is one device per physical GPU, "@N" each, or the default adapter on a machine
// with none (lavapipe, a CPU adapter, in CI).
TEST(PoolAdapters, EveryGpuMeansEachGpuOrTheDefaultAdapterOnAMachineWithNone) {
  unsetenv("KEM_ADAPTER");  // the selectors are the subject here (each test is its own process)
  auto instance = gpu::Instance::create();
  KEM_ASSERT_OK(instance);
  auto all = (*instance)->enumerate_adapters();
  ASSERT_TRUE(all.has_value());
  std::vector<std::string> gpus;
  for (size_t i = 0; i < all->size(); ++i)
    if ((*all)[i].description.adapter_type != "cpu") gpus.push_back("@" + std::to_string(i));
  auto pool = ExecutorPool::create();
  KEM_ASSERT_OK(pool);
  if (gpus.empty()) {
    ASSERT_EQ((*pool)->size(), 1u);
    EXPECT_EQ((*pool)->stats().devices[0].selector, "");
  } else {
    ASSERT_EQ((*pool)->size(), gpus.size());
    for (size_t i = 0; i < gpus.size(); ++i) EXPECT_EQ((*pool)->stats().devices[i].selector, gpus[i]);
  }
  std::vector<uint8_t> input{1, 3, 5, 7};
  const std::string source = read_kernel("double-integer.wgsl");
  auto out = (*pool)->run(doubling(source, input));
  KEM_ASSERT_OK(out);
  EXPECT_EQ(*out, (std::vector<uint8_t>{2, 6, 10, 14}));
}

}  // namespace
}  // namespace kem::test
