#include "worker/worker_server.h"

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "kem/executor_pool.h"
#include "worker/channel.h"
#include "worker/protocol.h"
#include "worker/shared_memory.h"

namespace kem::worker {
namespace {

// One call between its message and its reply: what the request's views point to.
struct WorkerCall {
  uint64_t id = 0;
  std::shared_ptr<const std::string> source;
  std::shared_ptr<SharedMemory> input_arena, params_arena, output_arena;
  std::vector<uint8_t> input, params;  // inline bytes, copied out of the receive buffer
  Placement output;
  KernelRequest request;
};

// Runs, in order, the requests that wait for a device, off the thread that reads the socket.
class ControlThread {
 public:
  ControlThread() : thread_([this] { loop(); }) {}
  ~ControlThread() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  void post(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
  }

 private:
  void loop() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      auto job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job();
      lock.lock();
    }
  }
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

class Server {
 public:
  explicit Server(int fd) : channel_(fd) {}

  int run() {
    std::vector<uint8_t> message;
    int fd = -1;
    auto got = channel_.receive(message, fd, std::chrono::milliseconds(-1));
    if (!got || *got != Channel::Received::message) return 2;
    Reader r(message);
    if (static_cast<Kind>(r.u8()) != Kind::hello) return 2;
    r.u64();
    ExecutorPoolOptions options = get_pool_options(r);
    if (r.failed()) return 2;
    options.executor.on_device_abandoned = [this] {
      // Once: the service replaces this process; saying it again changes nothing.
      if (!abandoned_.exchange(true)) (void)channel_.send(worker::message(Kind::abandoned).data());
    };
    auto pool = ExecutorPool::create(options);
    Writer ready = worker::message(Kind::ready);
    ready.boolean(pool.ok());
    if (pool) {
      ready.u64((*pool)->size());
      spin_ = spin_for(options.executor, **pool);
      ready.u64(static_cast<uint64_t>(spin_.count()));
    } else {
      put(ready, pool.error());
    }
    if (!channel_.send(ready.data()) || !pool) return pool ? 0 : 3;
    pool_ = std::move(pool).value();
    max_timeout_ = options.executor.max_timeout;
    loop();
  }

 private:
  // Never returns: the service ends a worker by closing the socket or by SIGKILL.
  [[noreturn]] void loop() {
    std::vector<uint8_t> message;
    while (true) {
      int fd = -1;
      auto got = channel_.receive(message, fd, std::chrono::milliseconds(-1), spin_);
      // The service is gone: nobody waits for an answer, and the GPU may be busy with work
      // nobody wants. Leave at once.
      if (!got || *got != Channel::Received::message) _exit(0);
      Reader r(message);
      const auto kind = static_cast<Kind>(r.u8());
      const uint64_t id = r.u64();
      switch (kind) {
        case Kind::add_kernel: {
          const uint64_t key = r.u64();
          sources_[key] = std::make_shared<const std::string>(r.text());
          break;
        }
        case Kind::forget_kernel: sources_.erase(r.u64()); break;
        case Kind::add_arena: {
          const uint64_t arena = r.u64(), size = r.u64();
          if (fd < 0) break;
          auto mapped = SharedMemory::map(fd, size);
          fd = -1;
          if (mapped) arenas_[arena] = std::move(mapped).value();
          break;
        }
        case Kind::forget_arena: arenas_.erase(r.u64()); break;
        case Kind::call: call(id, r); break;
        case Kind::check: {
          auto source = find(sources_, r.u64());
          std::string entry(r.text());
          control_->post([this, id, source, entry] {
            if (!source) return reply(id, make_error(ErrorCode::internal, "the GPU worker lost the kernel"));
            auto checked = pool_->check(*source, entry);
            Writer w = worker::message(Kind::reply, id);
            w.boolean(checked.ok());
            if (!checked) put(w, checked.error());
            else w.bytes({});
            (void)channel_.send(w.data());
          });
          break;
        }
        case Kind::stats: {
          Writer w = worker::message(Kind::reply, id);
          w.boolean(true);
          Writer body;
          put(body, pool_->stats());
          w.bytes(body.data());
          (void)channel_.send(w.data());
          break;
        }
        case Kind::info: {
          Writer w = worker::message(Kind::reply, id);
          w.boolean(true);
          w.text(pool_->adapter_info_json());
          (void)channel_.send(w.data());
          break;
        }
        case Kind::lose_device: {
          const uint64_t index = r.u64();
          control_->post([this, id, index] {
            pool_->simulate_device_loss(index);
            Writer w = worker::message(Kind::reply, id);
            w.boolean(true);
            w.bytes({});
            (void)channel_.send(w.data());
          });
          break;
        }
        default: break;
      }
      if (fd >= 0) close(fd);
    }
  }

  template <class Map>
  static typename Map::mapped_type find(const Map& map, uint64_t key) {
    auto it = map.find(key);
    return it == map.end() ? nullptr : it->second;
  }

  void reply(uint64_t id, const Error& error) {
    Writer w = worker::message(Kind::reply, id);
    w.boolean(false);
    put(w, error);
    (void)channel_.send(w.data());
  }

  // The bytes a placement names: in the message (copied into `copy`) or in a mapped arena.
  std::span<const uint8_t> bytes_of(const Placement& p, std::span<const uint8_t> in_message,
                                    std::vector<uint8_t>& copy, std::shared_ptr<SharedMemory>& arena, bool& ok) {
    if (!p.in_arena) {
      copy.assign(in_message.begin(), in_message.end());
      return copy;
    }
    arena = find(arenas_, p.arena);
    if (!arena || p.offset > arena->size() || p.size > arena->size() - p.offset) {
      ok = false;
      return {};
    }
    return {arena->data() + p.offset, p.size};
  }

  void call(uint64_t id, Reader& r) {
    CallMessage m = get_call(r);
    if (r.failed()) return reply(id, make_error(ErrorCode::internal, "a malformed call reached the GPU worker"));
    auto c = std::make_shared<WorkerCall>();
    c->id = id;
    c->source = find(sources_, m.kernel);
    bool ok = c->source != nullptr;
    KernelRequest& q = c->request;
    q.input = bytes_of(m.input, m.inline_input, c->input, c->input_arena, ok);
    q.params = bytes_of(m.params, m.inline_params, c->params, c->params_arena, ok);
    c->output = m.output;
    if (m.output.in_arena) {
      c->output_arena = find(arenas_, m.output.arena);
      ok = ok && c->output_arena && m.output.offset <= c->output_arena->size() &&
           m.output.size <= c->output_arena->size() - m.output.offset;
    }
    if (!ok) return reply(id, make_error(ErrorCode::internal, "the GPU worker lost a kernel or a transfer area"));
    q.source = *c->source;
    q.entry = std::move(m.entry);
    q.output_size_hint = m.output_size_hint;
    q.output_size = m.output_size;
    q.workgroups = m.workgroups;
    const auto deadline = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(m.deadline_ns));
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    // A call moved from a replaced worker (or queued behind a long one) can arrive with its
    // deadline gone: that is the caller's timeout, not a bad argument (the executor would
    // refuse a zero timeout as invalid_argument, a 400).
    if (left.count() <= 0 && !m.capped)
      return reply(id, make_error(ErrorCode::timeout, "the call's deadline passed before the GPU worker could start it"));
    q.timeout = left;
    // More than the cap, so that the executor caps it and its timeout says so.
    if (m.capped) q.timeout = max_timeout_ + std::chrono::milliseconds(1);
    q.loop_budget = m.loop_budget;
    q.unmetered = m.unmetered;
    q.overrides = std::move(m.overrides);
    WorkerCall* raw = c.get();  // output_into runs before the completion, which holds `c`
    if (m.output.in_arena)
      q.output_into = [raw](uint64_t bytes) -> uint8_t* {
        if (bytes > raw->output.size) return nullptr;
        return raw->output_arena->data() + raw->output.offset;
      };
    pool_->submit(q, [this, c](Result<OutputView> out) {
      Writer w = worker::message(Kind::reply, c->id);
      w.boolean(out.ok());
      if (!out) {
        put(w, out.error());
      } else if (c->output.in_arena) {
        w.boolean(true);
        w.u64(out->size());
      } else {
        w.boolean(false);
        w.bytes(*out);
      }
      (void)channel_.send(w.data());
    });
  }

  // As the executor's own polling: spin_wait, or by default 100 µs on GPUs and none on CPU
  // adapters (lavapipe needs every core for the kernels).
  static std::chrono::microseconds spin_for(const ExecutorOptions& options, const ExecutorPool& pool) {
    if (options.spin_wait) return *options.spin_wait;
    const bool cpu = pool.device_adapter_info_json(0).find("\"adapter_type\":\"cpu\"") != std::string::npos;
    return cpu ? std::chrono::microseconds(0) : std::chrono::microseconds(100);
  }

  Channel channel_;
  std::chrono::microseconds spin_{0};
  std::chrono::milliseconds max_timeout_{0};
  std::atomic<bool> abandoned_{false};
  std::unordered_map<uint64_t, std::shared_ptr<const std::string>> sources_;
  std::unordered_map<uint64_t, std::shared_ptr<SharedMemory>> arenas_;
  std::unique_ptr<ExecutorPool> pool_;
  // Declared last, destroyed first (run() resets it before the pool).
  std::unique_ptr<ControlThread> control_ = std::make_unique<ControlThread>();
};

}  // namespace

int serve(int fd) { return Server(fd).run(); }

}  // namespace kem::worker
