// The service's fetch threads: a fixed set of threads that run jobs which may wait (a gateway
// fetch, the disk cache, a kernel file), so that the threads submitting calls never do. Jobs
// run in the order posted; a full queue refuses new ones.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kem::service {

class FetchThreads {
 public:
  // A job gets `true` when it runs, `false` when the threads stop before it could (it must
  // then only report that, quickly).
  using Job = std::function<void(bool run)>;

  FetchThreads(size_t threads, size_t queue_capacity);
  // Jobs still queued are called with `false`; then every thread is joined.
  ~FetchThreads();
  FetchThreads(const FetchThreads&) = delete;
  FetchThreads& operator=(const FetchThreads&) = delete;

  // False (and the job is dropped, uncalled) when the queue is full.
  bool post(Job job);

  size_t queued() const;

 private:
  void work();

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  size_t capacity_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace kem::service
