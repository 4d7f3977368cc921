// The worker's side of the protocol, spoken to directly through a WorkerLink: what the service
// cannot make happen on purpose but the world can (a call moved to a successor after the
// worker it was queued on was replaced can arrive with its deadline already gone).
#include <gtest/gtest.h>

#include <chrono>
#include <future>

#include "process/child_process.h"
#include "test_support.h"
#include "worker/protocol.h"
#include "worker/worker_link.h"

namespace kem::worker {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

uint64_t monotonic_ns(Clock::time_point t) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
}

// One call of the double-integer kernel (key 1) on `input`, deadline `deadline`: the reply's
// output, or its error.
Result<std::vector<uint8_t>> call(WorkerLink& link, std::span<const uint8_t> input, Clock::time_point deadline) {
  CallMessage m;
  m.kernel = 1;
  m.entry = "main";
  m.inline_input = input;
  m.input.size = input.size();
  m.output.size = input.size();
  m.output_size = input.size();
  m.deadline_ns = monotonic_ns(deadline);
  const uint64_t id = WorkerLink::next_id();
  Writer w = message(Kind::call, id);
  put(w, m);
  std::promise<Result<std::vector<uint8_t>>> answered;
  WorkerLink::Handler handler = [&](Result<Reader*> reply) {
    if (!reply) return answered.set_value(reply.take_error());
    Reader& r = **reply;
    const bool in_arena = r.boolean();
    auto bytes = r.bytes();
    if (in_arena || r.failed()) return answered.set_value(make_error(ErrorCode::internal, "unexpected reply"));
    answered.set_value(std::vector<uint8_t>(bytes.begin(), bytes.end()));
  };
  if (auto unsent = link.request(id, w, handler, Clock::now() + 10s, -1, m.kernel)) return *unsent;
  return answered.get_future().get();
}

TEST(WorkerProtocol, ACallThatArrivesAfterItsDeadlineIsATimeoutNotABadArgument) {
  auto program = process::find_helper_program("kem-gpu-worker", "KEM_GPU_WORKER");
  ASSERT_TRUE(program) << program.error().message;
  ExecutorPoolOptions devices;
  devices.adapters = {""};
  auto link = WorkerLink::start(*program, devices, 1000ms, {});
  ASSERT_TRUE(link) << link.error().message;
  auto ready = (*link)->wait_ready(30s);
  ASSERT_TRUE(ready) << ready.error().message;
  Writer kernel = message(Kind::add_kernel);
  kernel.u64(1);
  kernel.text(test::read_kernel("double-integer.wgsl"));
  ASSERT_TRUE((*link)->notify(kernel));

  const auto input = test::random_bytes(64, 3);
  auto late = call(**link, input, Clock::now() - 1ms);
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::timeout) << late.error().message;
  EXPECT_NE(late.error().message.find("deadline passed"), std::string::npos) << late.error().message;

  // The same call with time left is answered, exactly: what decided was the deadline.
  auto on_time = call(**link, input, Clock::now() + 10s);
  ASSERT_TRUE(on_time.ok()) << on_time.error().message;
  EXPECT_EQ(*on_time, test::doubled(input, input.size()));
}

}  // namespace
}  // namespace kem::worker
