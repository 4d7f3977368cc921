// kem::Service end to end on the real pool (lavapipe in CI): kernels by inline source, pin and
// file; the trust policy; resolution on the fetch threads; two devices, one of them lost.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "kem/service.h"
#include "test_support.h"

namespace kem {
namespace {

namespace fs = std::filesystem;

const std::string kPinnedId = "btSvNclyu2me_zGh4X9ULVRZqwze9l2DpkcVHcLw9Eg";
const std::string kOtherId = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

const char* const kSumKernel = test::kInputSumKernel;

// The double-integer kernel's output (each u32 word doubled), from the CPU.
std::vector<uint8_t> doubled(const std::vector<uint8_t>& input) { return test::doubled(input, input.size()); }

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kem-service-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_ / "pins");
    std::ofstream(dir_ / "pins" / (kPinnedId + ".wgsl")) << test::read_kernel("double-integer.wgsl");
    std::ofstream(dir_ / "pins" / (kOtherId + ".wgsl")) << kSumKernel;
    std::ofstream(dir_ / "double.wgsl") << test::read_kernel("double-integer.wgsl");
  }
  void TearDown() override { fs::remove_all(dir_); }

  ServiceOptions options(size_t devices = 1) const {
    ServiceOptions o;
    o.devices.adapters = std::vector<std::string>(devices, "");
    o.store.pin_dir = (dir_ / "pins").string();
    o.store.disk_cache = false;
    o.store.offline = true;  // nothing here may reach a network
    return o;
  }
  std::unique_ptr<Service> make(ServiceOptions o) {
    auto created = Service::create(std::move(o));
    EXPECT_TRUE(created.ok()) << created.error().message;
    return created.ok() ? std::move(created).value() : nullptr;
  }
  static KernelRequest request(const std::vector<uint8_t>& input) {
    KernelRequest r;
    r.input = input;
    return r;
  }

  fs::path dir_;
};

TEST_F(ServiceTest, RunsKernelsByInlineSourcePinAndFile) {
  auto service = make(options());
  ASSERT_TRUE(service);
  const auto input = test::random_bytes(4096, 11);
  for (const KernelRef& ref : {KernelRef::inline_source(test::read_kernel("double-integer.wgsl")),
                               KernelRef::id(kPinnedId), KernelRef::file((dir_ / "double.wgsl").string())}) {
    auto out = service->run(ref, request(input));
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_EQ(*out, doubled(input));
  }
}

TEST_F(ServiceTest, ResolutionErrorsArriveThroughTheCompletion) {
  auto service = make(options());
  ASSERT_TRUE(service);
  const auto input = test::u32_bytes({1});
  auto missing_id = service->run(KernelRef::id("BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA"), request(input));
  ASSERT_FALSE(missing_id.ok());
  EXPECT_EQ(missing_id.error().code, ErrorCode::not_found);
  EXPECT_NE(missing_id.error().message.find("offline"), std::string::npos) << missing_id.error().message;
  auto missing_file = service->run(KernelRef::file((dir_ / "nope.wgsl").string()), request(input));
  ASSERT_FALSE(missing_file.ok());
  EXPECT_EQ(missing_file.error().code, ErrorCode::not_found);
  auto malformed = service->run(KernelRef::id("not-an-id"), request(input));
  ASSERT_FALSE(malformed.ok());
  EXPECT_EQ(malformed.error().code, ErrorCode::invalid_argument);
  auto empty = service->run(KernelRef::inline_source(""), request(input));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, ErrorCode::invalid_argument);
}

// 100 iterations against a budget of 99: the sum only when the policy trusts the kernel's ID.
TEST_F(ServiceTest, TheTrustPolicyDecidesMeteringAndCanChangeAtRunTime) {
  auto service = make(options());
  ASSERT_TRUE(service);
  const auto input = test::u32_bytes({100});
  auto run = [&](const KernelRef& ref) {
    KernelRequest r = request(input);
    r.loop_budget = 99;
    r.unmetered = true;  // ignored: only the service's policy decides
    return service->run(ref, std::move(r));
  };
  auto metered = run(KernelRef::id(kOtherId));
  ASSERT_FALSE(metered.ok());
  EXPECT_EQ(metered.error().code, ErrorCode::budget_exceeded);

  ASSERT_TRUE(service->set_trust(TrustPolicy{{kOtherId}, {}}).ok());
  auto trusted = run(KernelRef::id(kOtherId));
  ASSERT_TRUE(trusted.ok()) << trusted.error().message;
  EXPECT_EQ(*trusted, test::u32_bytes({4950}));
  // The same source inline or from a file is never trusted.
  std::ofstream(dir_ / "sum.wgsl") << kSumKernel;
  EXPECT_EQ(run(KernelRef::inline_source(kSumKernel)).error().code, ErrorCode::budget_exceeded);
  EXPECT_EQ(run(KernelRef::file((dir_ / "sum.wgsl").string())).error().code, ErrorCode::budget_exceeded);

  EXPECT_FALSE(service->set_trust(TrustPolicy{{"nope"}, {}}).ok());
  EXPECT_TRUE(run(KernelRef::id(kOtherId)).ok());  // a refused policy leaves the last one in force
  ASSERT_TRUE(service->set_trust(TrustPolicy{}).ok());
  EXPECT_EQ(run(KernelRef::id(kOtherId)).error().code, ErrorCode::budget_exceeded);
}

// A kernel file is resolved on a fetch thread: the submitting thread is back before the call.
TEST_F(ServiceTest, KernelsNotAtHandAreResolvedOffTheCallingThread) {
  auto service = make(options());
  ASSERT_TRUE(service);
  const auto input = test::random_bytes(64, 3);
  std::promise<std::pair<std::thread::id, std::vector<uint8_t>>> done;
  const std::thread::id caller = std::this_thread::get_id();
  service->submit(KernelRef::file((dir_ / "double.wgsl").string()), request(input), [&](Result<OutputView> out) {
    std::vector<uint8_t> bytes;
    if (out) bytes.assign(out->begin(), out->end());
    done.set_value({std::this_thread::get_id(), bytes});
  });
  auto [thread, bytes] = done.get_future().get();
  EXPECT_NE(thread, caller);
  EXPECT_EQ(bytes, doubled(input));
}

// More calls waiting for a resolution than the fetch queue holds are refused at once.
TEST_F(ServiceTest, AFullFetchQueueRefusesWithUnavailable) {
  ServiceOptions o = options();
  o.fetch_threads = 1;
  o.fetch_queue = 1;
  auto service = make(o);
  ASSERT_TRUE(service);
  const auto input = test::u32_bytes({1});
  std::atomic<int> refused{0}, answered{0};
  std::atomic<int> left{64};
  std::promise<void> all;
  for (int i = 0; i < 64; ++i)
    service->submit(KernelRef::file((dir_ / "double.wgsl").string()), request(input), [&](Result<OutputView> out) {
      if (!out && out.error().code == ErrorCode::unavailable) ++refused;
      else if (out && std::vector<uint8_t>(out->begin(), out->end()) == doubled(input)) ++answered;
      if (--left == 0) all.set_value();
    });
  all.get_future().get();
  EXPECT_EQ(refused + answered, 64);
  EXPECT_GT(refused.load(), 0);
  EXPECT_GT(answered.load(), 0);
}

// Two devices under concurrent calls; one is destroyed midway. Every call is answered
// correctly (the pool retries what the lost device had), and the report shows both devices.
TEST_F(ServiceTest, TwoDevicesServeConcurrentCallsThroughTheLossOfOne) {
  auto service = make(options(2));
  ASSERT_TRUE(service);
  ASSERT_EQ(service->device_count(), 2u);
  const std::string kernel = test::read_kernel("double-integer.wgsl");
  std::atomic<int> wrong{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 6; ++t)
    callers.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        const auto input = test::random_bytes(256 + 4 * i, static_cast<uint32_t>(t * 1000 + i));
        auto out = service->run(KernelRef::inline_source(kernel), request(input));
        if (!out || *out != doubled(input)) ++wrong;
        if (t == 0 && i == 10) service->simulate_device_loss(1);
      }
    });
  for (auto& c : callers) c.join();
  EXPECT_EQ(wrong.load(), 0);
  auto report = nlohmann::json::parse(service->adapter_info_json());
  EXPECT_EQ(report["backend"], "vulkan");
  ASSERT_EQ(report["devices"].size(), 2u);
  EXPECT_EQ(report["total"]["calls"].get<uint64_t>(), report["devices"][0]["calls"].get<uint64_t>() +
                                                          report["devices"][1]["calls"].get<uint64_t>());
  const auto stats = service->stats();
  EXPECT_GT(stats.devices[0].executor.calls, 0u);
  EXPECT_GT(stats.devices[1].executor.calls, 0u);  // it served before it was lost, or after
}

TEST_F(ServiceTest, CallsWaitingForTheirKernelFailCleanlyWhenTheServiceCloses) {
  ServiceOptions o = options();
  o.fetch_threads = 1;
  auto service = make(o);
  ASSERT_TRUE(service);
  const auto input = test::u32_bytes({1});
  std::atomic<int> completions{0}, bad{0};
  for (int i = 0; i < 32; ++i)
    service->submit(KernelRef::file((dir_ / "double.wgsl").string()), request(input), [&](Result<OutputView> out) {
      ++completions;
      if (!out && out.error().code != ErrorCode::unavailable) ++bad;
      if (out && std::vector<uint8_t>(out->begin(), out->end()) != doubled(input)) ++bad;
    });
  service.reset();  // joins the fetch threads and waits for the devices' calls
  EXPECT_EQ(completions.load(), 32);
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace kem
