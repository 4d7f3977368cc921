#include "executor/session_retirement.h"

namespace kem::executor {

SessionRetirement::~SessionRetirement() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SessionRetirement::retire(std::unique_ptr<GpuSession> session) {
  {
    std::lock_guard lock(mutex_);
    retired_.push_back(std::move(session));
    if (!thread_.joinable()) thread_ = std::thread([this] { drain(); });
  }
  wake_.notify_one();
}

void SessionRetirement::drain() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stopping_ || !retired_.empty(); });
    if (retired_.empty()) return;  // stopping, and every retired session is destroyed
    std::unique_ptr<GpuSession> session = std::move(retired_.front());
    retired_.pop_front();
    lock.unlock();
    session->device().destroy();
    session.reset();
    lock.lock();
  }
}

}  // namespace kem::executor
