// The link between the service and its GPU worker (worker/channel.h), both ends in this
// process: every message arrives whole and in the order it was sent, whichever path it took
// (the shared-memory ring, the socket, a spilled memfd, with a descriptor), from many threads,
// with the ring full, to a receiver that polls and to one that sleeps.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "worker/channel.h"
#include "worker/message_ring.h"
#include "worker/shared_memory.h"

namespace kem::worker {
namespace {

using namespace std::chrono_literals;

struct Ends {
  std::unique_ptr<Channel> service, worker;
};

Ends connected() {
  auto pair = Channel::pair();
  EXPECT_TRUE(pair.ok());
  auto [ours, theirs] = std::move(pair).value();
  return {std::move(ours), std::make_unique<Channel>(theirs)};
}

// Message `index` of `sender`: its size picks the path (a ring slot, the socket, a memfd);
// its bytes say who sent it and which it is.
std::vector<uint8_t> message_of(uint32_t sender, uint32_t index) {
  static const size_t sizes[] = {0, 8, 300, MessageRing::kMaxMessage, MessageRing::kMaxMessage + 1, 20000,
                                 (160 << 10) + 5};
  std::vector<uint8_t> m(8 + sizes[index % std::size(sizes)]);
  std::memcpy(m.data(), &sender, 4);
  std::memcpy(m.data() + 4, &index, 4);
  for (size_t i = 8; i < m.size(); ++i) m[i] = static_cast<uint8_t>(sender * 31 + index * 7 + i);
  return m;
}

std::pair<uint32_t, uint32_t> who(const std::vector<uint8_t>& m) {
  uint32_t sender = 0, index = 0;
  if (m.size() >= 8) {
    std::memcpy(&sender, m.data(), 4);
    std::memcpy(&index, m.data() + 4, 4);
  }
  return {sender, index};
}

std::vector<uint8_t> receive_one(Channel& c, int& fd, std::chrono::microseconds spin = 0us) {
  std::vector<uint8_t> m;
  auto got = c.receive(m, fd, 10000ms, spin);
  EXPECT_TRUE(got.ok()) << got.error().message;
  EXPECT_EQ(got.ok() ? *got : Channel::Received::closed, Channel::Received::message);
  return m;
}

TEST(WorkerChannel, EveryPathKeepsTheOrderOfOneSender) {
  Ends e = connected();
  // A memfd with known bytes, sent with every fifth message.
  auto region = SharedMemory::create(4096);
  ASSERT_TRUE(region);
  std::memcpy((*region)->data(), "region", 6);
  std::thread sender([&] {
    for (uint32_t i = 0; i < 700; ++i) {
      const int fd = i % 5 == 0 ? dup((*region)->fd()) : -1;
      ASSERT_TRUE(e.service->send(message_of(1, i), fd));
      if (fd >= 0) close(fd);
    }
  });
  for (uint32_t i = 0; i < 700; ++i) {
    int fd = -1;
    auto m = receive_one(*e.worker, fd, i % 2 ? 200us : 0us);
    ASSERT_EQ(m, message_of(1, i)) << "message " << i;
    ASSERT_EQ(fd >= 0, i % 5 == 0) << "message " << i;
    if (fd >= 0) {
      auto mapped = SharedMemory::map(fd, 4096);
      ASSERT_TRUE(mapped);
      EXPECT_EQ(std::memcmp((*mapped)->data(), "region", 6), 0);
    }
  }
  sender.join();
}

TEST(WorkerChannel, AFullRingOverflowsToTheSocketInOrder) {
  Ends e = connected();
  // 400 small messages before the first is read: 256 fill the ring, the rest take the socket.
  for (uint32_t i = 0; i < 400; ++i) ASSERT_TRUE(e.worker->send(message_of(5, 1 + 7 * i)));
  for (uint32_t i = 0; i < 400; ++i) {
    int fd = -1;
    ASSERT_EQ(receive_one(*e.service, fd, 50us), message_of(5, 1 + 7 * i)) << "message " << i;
  }
}

TEST(WorkerChannel, ManySendersAtOnceEachInOrderAndBothDirections) {
  Ends e = connected();
  constexpr uint32_t kSenders = 4, kEach = 600;
  std::vector<std::thread> senders;
  for (uint32_t s = 0; s < kSenders; ++s)
    senders.emplace_back([&, s] {
      for (uint32_t i = 0; i < kEach; ++i) ASSERT_TRUE(e.worker->send(message_of(s, i)));
    });
  std::vector<uint32_t> next(kSenders, 0);
  for (uint32_t n = 0; n < kSenders * kEach; ++n) {
    int fd = -1;
    auto m = receive_one(*e.service, fd, n % 2 ? 50us : 0us);
    auto [s, i] = who(m);
    ASSERT_LT(s, kSenders);
    ASSERT_EQ(i, next[s]) << "sender " << s << " out of order";
    ASSERT_EQ(m, message_of(s, i));
    ++next[s];
  }
  for (auto& t : senders) t.join();
  // And the other way, on the same link.
  ASSERT_TRUE(e.service->send(message_of(9, 2)));
  int fd = -1;
  EXPECT_EQ(receive_one(*e.worker, fd), message_of(9, 2));
}

TEST(WorkerChannel, ASleepingReceiverIsWokenByARingMessage) {
  Ends e = connected();
  std::thread late([&] {
    std::this_thread::sleep_for(100ms);  // the receiver is asleep in poll by then
    ASSERT_TRUE(e.service->send(message_of(2, 1)));
  });
  std::vector<uint8_t> m;
  int fd = -1;
  const auto start = std::chrono::steady_clock::now();
  auto got = e.worker->receive(m, fd, 5000ms, 0us);
  const auto waited = std::chrono::steady_clock::now() - start;
  late.join();
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(*got, Channel::Received::message) << "the doorbell did not wake the receiver";
  EXPECT_EQ(m, message_of(2, 1));
  EXPECT_LT(waited, 2000ms);
}

TEST(WorkerChannel, TheOtherSideEndingIsSeenAtOnce) {
  Ends e = connected();
  ASSERT_TRUE(e.worker->send(message_of(3, 1)));
  e.worker.reset();  // what the worker's death does to its end
  int fd = -1;
  EXPECT_EQ(receive_one(*e.service, fd, 100us), message_of(3, 1));  // what it said before still arrives
  std::vector<uint8_t> m;
  auto got = e.service->receive(m, fd, 5000ms, 100us);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, Channel::Received::closed);
  // A timeout is a timeout, not an end.
  Ends quiet = connected();
  auto nothing = quiet.service->receive(m, fd, 20ms, 0us);
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(*nothing, Channel::Received::timed_out);
}

}  // namespace
}  // namespace kem::worker
