// The GPU worker's link alone (src/worker/channel.h), between this process and a forked echo
// process: round trips of a call-sized message (200 bytes) through the shared-memory rings
// beside the same through the socket alone, alternating rounds, both ends polling for
// SPIN_US (100) as the worker does on a GPU. What the boundary costs a call, without a GPU.
//
//   kem_channel_bench [ROUNDS=6] [TRIPS=20000] [SPIN_US=100]
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "worker/channel.h"

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void echo(int fd, std::chrono::microseconds spin) {
  kem::worker::Channel channel(fd);
  std::vector<uint8_t> m;
  while (true) {
    int got_fd = -1;
    auto got = channel.receive(m, got_fd, std::chrono::milliseconds(-1), spin);
    if (!got || *got != kem::worker::Channel::Received::message) _exit(0);
    if (!channel.send(m)) _exit(1);
  }
}

// The median round trip in µs, or a negative number when the link failed.
double round_trips(bool rings, int trips, std::chrono::microseconds spin) {
  auto pair = kem::worker::Channel::pair(rings);
  if (!pair) return -1;
  auto [ours, theirs] = std::move(pair).value();
  const pid_t child = fork();
  if (child == 0) {
    ours.reset();
    echo(theirs, spin);
  }
  close(theirs);
  std::vector<uint8_t> call(200, 7), reply;
  std::vector<double> us;
  us.reserve(trips);
  for (int i = 0; i < trips + trips / 10; ++i) {
    call[0] = static_cast<uint8_t>(i);
    const auto start = Clock::now();
    int fd = -1;
    if (!ours->send(call)) return -1;
    auto got = ours->receive(reply, fd, std::chrono::milliseconds(5000), spin);
    if (!got || *got != kem::worker::Channel::Received::message || reply != call) return -1;
    if (i >= trips / 10) us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  ours.reset();
  waitpid(child, nullptr, 0);
  std::nth_element(us.begin(), us.begin() + us.size() / 2, us.end());
  return us[us.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 6;
  const int trips = argc > 2 ? std::atoi(argv[2]) : 20000;
  const auto spin = std::chrono::microseconds(argc > 3 ? std::atoi(argv[3]) : 100);
  std::vector<double> ring, socket;
  for (int r = 0; r < rounds; ++r) {
    ring.push_back(round_trips(true, trips, spin));
    socket.push_back(round_trips(false, trips, spin));
    std::printf("round %d: rings %.2f us, socket alone %.2f us\n", r + 1, ring.back(), socket.back());
    if (ring.back() < 0 || socket.back() < 0) return 1;
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::printf("200-byte round trip, median of %d rounds of %d, spin %lld us: rings %.2f us, socket alone %.2f us (%.1fx)\n",
              rounds, trips, static_cast<long long>(spin.count()), median(ring), median(socket),
              median(socket) / median(ring));
}
