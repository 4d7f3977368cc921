// Fetches of kernels not at hand run on the service's own bounded fetch threads, so a slow
// gateway never delays calls of kernels at hand (inline source, pins): while every fetch
// thread waits on a loopback gateway that stalls 10 s per ID, such calls are served at once
// with exact results, and a full fetch queue answers `unavailable` at once.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "kem/service.h"
#include "loopback_gateway.h"
#include "test_support.h"

namespace kem {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using store::testing::CannedResponse;
using store::testing::LoopbackGateway;

const std::string kPinnedId = "btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg";

// A valid ID per index: 43 base64url characters, the last one canonical ('A').
std::string slow_id(int i) {
  std::string id(43, 'S');
  id[1] = static_cast<char>('a' + i % 26);
  id[2] = static_cast<char>('a' + i / 26);
  id[42] = 'A';
  return id;
}

struct Answers {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<Error> errors;
  int ok = 0;
  Completion slot() {
    return [this](Result<OutputView> out) {
      std::lock_guard lock(mutex);
      if (out) ++ok;
      else errors.push_back(out.error());
      changed.notify_all();
    };
  }
  size_t count() {
    std::lock_guard lock(mutex);
    return errors.size() + ok;
  }
};

TEST(SlowGateway, CallsOfKernelsAtHandAreServedWhileEveryFetchThreadWaits) {
  const fs::path dir = fs::temp_directory_path() / ("kem-slow-gateway-" + std::to_string(::getpid()));
  fs::create_directories(dir / "pins");
  std::ofstream(dir / "pins" / (kPinnedId + ".wgsl")) << test::read_kernel("double-integer.wgsl");

  LoopbackGateway gateway;
  constexpr int kFetchThreads = 2, kFetchQueue = 4;
  for (int i = 0; i < kFetchThreads + kFetchQueue + 1; ++i)
    gateway.set("/raw/" + slow_id(i), CannedResponse{.body = "@compute @workgroup_size(1) fn main() {}", .stall = 10s});

  ServiceOptions o;
  o.devices.adapters = {""};
  o.store.gateways = {gateway.url()};
  o.store.pin_dir = (dir / "pins").string();
  o.store.disk_cache = false;
  // Shorter than the stall, so the fetch threads come free and the test ends in seconds; still
  // long enough that every fetch thread is stuck while the calls below are timed.
  o.store.request_timeout = 5s;
  o.fetch_threads = kFetchThreads;
  o.fetch_queue = kFetchQueue;
  auto created = Service::create(o);
  ASSERT_TRUE(created.ok()) << created.error().message;
  Service& service = **created;

  const auto one_word = test::u32_bytes({1});
  KernelRequest unknown;
  unknown.input = one_word;
  Answers slow;
  // One per fetch thread first, until each waits on the gateway; then enough to fill the queue.
  for (int i = 0; i < kFetchThreads; ++i) service.submit(KernelRef::id(slow_id(i)), unknown, slow.slot());
  const auto give_up = Clock::now() + 3s;
  auto asked = [&] {
    size_t n = 0;
    for (int i = 0; i < kFetchThreads + kFetchQueue; ++i) n += gateway.count("GET", "/raw/" + slow_id(i));
    return n;
  };
  while (asked() < static_cast<size_t>(kFetchThreads) && Clock::now() < give_up) std::this_thread::sleep_for(10ms);
  ASSERT_EQ(asked(), static_cast<size_t>(kFetchThreads));
  for (int i = kFetchThreads; i < kFetchThreads + kFetchQueue; ++i)
    service.submit(KernelRef::id(slow_id(i)), unknown, slow.slot());

  // The queue is full: one more is refused on the calling thread, at once.
  const auto refused_at = Clock::now();
  std::optional<Error> refusal;
  service.submit(KernelRef::id(slow_id(kFetchThreads + kFetchQueue)), unknown, [&](Result<OutputView> out) {
    if (!out) refusal = out.error();
  });
  const auto refused_in = Clock::now() - refused_at;
  ASSERT_TRUE(refusal.has_value()) << "a full fetch queue must refuse, on the calling thread";
  EXPECT_EQ(refusal->code, ErrorCode::unavailable);
  EXPECT_EQ(refusal->message, "too many kernels are being fetched (4 waiting); try again shortly");
  EXPECT_EQ(refusal->retry_after, 1s);
  EXPECT_LT(refused_in, 100ms);

  // Every fetch thread is still waiting on the gateway, the queued ones behind them.
  ASSERT_EQ(asked(), static_cast<size_t>(kFetchThreads));

  // Calls of kernels at hand meanwhile: each served at once, exactly.
  const std::string doubler = test::read_kernel("double-integer.wgsl");
  Clock::duration slowest{};
  for (int i = 0; i < 5; ++i) {
    const auto input = test::random_bytes(1024 + 64 * i, static_cast<uint32_t>(i));
    for (const KernelRef& ref : {KernelRef::id(kPinnedId), KernelRef::inline_source(doubler)}) {
      KernelRequest r;
      r.input = input;
      const auto start = Clock::now();
      auto out = service.run(ref, r);
      const auto took = Clock::now() - start;
      slowest = std::max(slowest, took);
      ASSERT_TRUE(out.ok()) << out.error().message;
      EXPECT_EQ(*out, test::doubled(input, input.size()));
      EXPECT_LT(took, 2s) << "a call of a kernel at hand waited for the gateway";
    }
  }
  {
    std::lock_guard lock(slow.mutex);
    EXPECT_EQ(slow.errors.size() + slow.ok, 0u) << "the slow fetches should all still be waiting: "
                                                << (slow.errors.empty() ? std::string() : slow.errors[0].message);
  }
  std::printf("[ slow gateway ] 10 calls of kernels at hand while %d fetch threads waited: slowest %.1f ms\n",
              kFetchThreads, std::chrono::duration<double, std::milli>(slowest).count());

  // The slow fetches end with the request timeout (then the gateway backs off, and the queued
  // ones are answered from that): every one `unavailable`, none hanging.
  {
    std::unique_lock lock(slow.mutex);
    ASSERT_TRUE(slow.changed.wait_for(lock, 30s, [&] { return slow.errors.size() + slow.ok == 6u; }));
    EXPECT_EQ(slow.ok, 0);
    for (const Error& e : slow.errors) EXPECT_EQ(e.code, ErrorCode::unavailable) << e.message;
  }
  gateway.stop();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kem
