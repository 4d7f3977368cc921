// Where lost and abandoned sessions go to be destroyed. An abandoned device may still be
// running a kernel, and destroying it can block until the driver lets go, so that never happens
// on the thread driving the device: one retirement thread per executor destroys retired sessions
// in order. The thread starts on the first retirement and is joined by the destructor, which
// first destroys every session still waiting (so it may wait for a driver, as the old detached
// threads would have, but no thread outlives the executor).
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "executor/session/gpu_session.h"

namespace kem::executor {

class SessionRetirement {
 public:
  // The owner keeps what sessions refer to (instance, options, counters) alive until the
  // destructor has returned.
  SessionRetirement() = default;
  ~SessionRetirement();
  SessionRetirement(const SessionRetirement&) = delete;
  SessionRetirement& operator=(const SessionRetirement&) = delete;

  // Hands `session` to the retirement thread; returns at once.
  void retire(std::unique_ptr<GpuSession> session);

 private:
  void drain();

  std::mutex mutex_;  // guards retired_, stopping_ and the start of thread_
  std::condition_variable wake_;
  std::deque<std::unique_ptr<GpuSession>> retired_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace kem::executor
