// The C++ side of the NIF-cost measurement (issue 6, part 3): 4-byte double-integer calls on a
// warm executor, timed one by one, with the same kernel, input and options as the Erlang side
// (nif_cost.erl). Modes:
//   submit  Executor::submit with a completion that copies the output into a std::vector and
//           wakes the caller through a mutex and condition variable (the NIF's path: its
//           completion copies the output into a binary and wakes the caller with enif_send);
//   run     Executor::run (a promise per call);
//   pool    kem::ExecutorPool::submit on a pool of one device, waited for as submit;
//   service kem::Service::submit of the kernel as an inline reference, waited for as submit
//           (the NIF's path since issue 13: the service resolves the reference, then the
//           devices, which are in the GPU worker process since issue 16);
//   service-inprocess  the same with worker_isolation off: the pool in this process (the cost
//           of the worker boundary is the difference).
// Usage: kem_nif_cost MODE CALLS WARMUP SAMPLES_FILE   (one duration in ns per line)
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kem/executor.h"
#include "kem/service.h"

namespace {

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  std::stringstream s;
  s << file.rdbuf();
  return s.str();
}

// One call through submit(): the completion copies the output out and wakes this thread. The
// state is shared, so the completion may notify after unlocking (the waiter then runs at once
// instead of blocking on the mutex) without outliving what it touches.
struct Waiter {
  std::mutex mutex;
  std::condition_variable cv;
  bool done = false, ok = false;
};

template <class Submit>
bool submit_and_wait(Submit&& submit, std::vector<uint8_t>& out) {
  auto waiter = std::make_shared<Waiter>();
  submit([waiter, &out](kem::Result<kem::OutputView> result) {
    {
      std::lock_guard lock(waiter->mutex);
      if (result) {
        out.assign(result->begin(), result->end());
        waiter->ok = true;
      }
      waiter->done = true;
    }
    waiter->cv.notify_one();
  });
  std::unique_lock lock(waiter->mutex);
  waiter->cv.wait(lock, [&] { return waiter->done; });
  return waiter->ok;
}


// The example kernel: from the source tree of the build, else from ./kernels (the GPU machine
// runs this binary from a copy of the tree at another path).
// NIF_COST_SOURCE_PAD=N appends N bytes of comment lines: the same kernel as a large source, to
// see what a call costs per byte of its kernel (the compile ignores comments).
std::string double_integer() {
  std::string source = read_file(std::string(KEM_SOURCE_DIR) + "/kernels/double-integer.wgsl");
  if (source.empty()) source = read_file("kernels/double-integer.wgsl");
  if (const char* pad = std::getenv("NIF_COST_SOURCE_PAD"))
    for (long left = std::atol(pad); left > 0; left -= 64) source += "// " + std::string(60, 'x') + "\n";
  return source;
}

// A service as a node opens it by default (one device: this machine has one adapter), its
// devices in the GPU worker process or, `isolate` false, in this one. NIF_COST_SPIN_US sets the
// executors' (and the worker boundary's) polling, e.g. to see on a CPU adapter what a GPU's
// default of 100 µs does. Null, with the reason printed, when it cannot be created.
std::unique_ptr<kem::Service> open_service(bool isolate) {
  kem::ServiceOptions options;
  options.devices.adapters = {""};
  options.store.disk_cache = false;
  options.worker.isolate = isolate;
  if (const char* spin = std::getenv("NIF_COST_SPIN_US"))
    options.devices.executor.spin_wait = std::chrono::microseconds(std::atol(spin));
  auto created = kem::Service::create(options);
  if (!created) {
    fprintf(stderr, "kem_nif_cost: %s\n", created.error().message.c_str());
    return nullptr;
  }
  return std::move(created).value();
}

// `threads` callers, each submitting 4-byte calls through the service and waiting for each, for
// `seconds`: calls per second in all (every output checked). The C++ twin of nif_cost:concurrent.
int service_threads(int threads, double seconds, bool isolate) {
  auto opened = open_service(isolate);
  if (!opened) return 1;
  kem::Service& service = *opened;
  const std::string source = double_integer();
  std::atomic<long> done{0}, wrong{0};
  const auto stop = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::vector<std::thread> callers;
  for (int t = 0; t < threads; ++t)
    callers.emplace_back([&] {
      const std::vector<uint8_t> input{1, 3, 5, 7}, expected{2, 6, 10, 14};
      kem::KernelRequest request;
      request.source = source;
      request.input = input;
      request.timeout = std::chrono::milliseconds(30000);
      std::vector<uint8_t> out;
      while (std::chrono::steady_clock::now() < stop) {
        const bool ok = submit_and_wait([&](kem::Completion c) {
          service.submit(kem::KernelRef::inline_source(source), request, std::move(c));
        }, out);
        (ok && out == expected ? done : wrong)++;
      }
    });
  for (auto& c : callers) c.join();
  printf("C++ service%s, %d threads: %.0f calls/s (%ld calls, %ld wrong or failed)\n", isolate ? "" : " (in-process)",
         threads, done / seconds, done.load(), wrong.load());
  return wrong ? 1 : 0;
}

// Large calls: `bytes` of input doubled into as many of output, through the service with its
// devices in-process or in the GPU worker (where both go through shared memory and one more
// copy each way). Prints the median of `calls` after one warm-up.
int service_bytes(uint64_t bytes, int calls, bool isolate) {
  auto opened = open_service(isolate);
  if (!opened) return 1;
  kem::Service& service = *opened;
  const std::string source = double_integer();
  std::vector<uint8_t> input(bytes);
  for (uint64_t i = 0; i < bytes; ++i) input[i] = static_cast<uint8_t>(i * 7);
  std::vector<uint8_t> out(bytes);
  kem::KernelRequest request;
  request.input = input;
  request.timeout = std::chrono::milliseconds(30000);
  request.output_into = [&](uint64_t n) { return n <= out.size() ? out.data() : nullptr; };  // the caller's memory
  std::vector<double> ms;
  for (int i = 0; i <= calls; ++i) {
    std::vector<uint8_t> unused;
    const auto t0 = std::chrono::steady_clock::now();
    const bool ok = submit_and_wait([&](kem::Completion c) {
      service.submit(kem::KernelRef::inline_source(source), request, std::move(c));
    }, unused);
    if (!ok) return fprintf(stderr, "kem_nif_cost: a large call failed\n"), 1;
    if (i == 0) {
      // Every byte checked once: each u32 word doubled (the CPU's reference).
      for (uint64_t w = 0; w + 4 <= bytes; w += 4) {
        uint32_t in, got;
        std::memcpy(&in, input.data() + w, 4);
        std::memcpy(&got, out.data() + w, 4);
        if (got != in * 2u) return fprintf(stderr, "kem_nif_cost: wrong output at byte %llu\n", (unsigned long long)w), 1;
      }
    }
    if (i > 0) ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  printf("C++ service%s, %llu bytes: median %.1f ms over %d calls\n", isolate ? "" : " (in-process)",
         static_cast<unsigned long long>(bytes), ms[ms.size() / 2], calls);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && (std::string(argv[1]) == "service-bytes" || std::string(argv[1]) == "service-bytes-inprocess"))
    return service_bytes(std::stoull(argv[2]), std::stoi(argv[3]), std::string(argv[1]) == "service-bytes");
  if (argc == 4 && std::string(argv[1]) == "service-threads")
    return service_threads(std::stoi(argv[2]), std::stod(argv[3]), true);
  if (argc == 4 && std::string(argv[1]) == "service-threads-inprocess")
    return service_threads(std::stoi(argv[2]), std::stod(argv[3]), false);
  if (argc != 5) {
    fprintf(stderr, "usage: kem_nif_cost submit|run|pool|service|service-inprocess CALLS WARMUP SAMPLES_FILE\n"
                    "       kem_nif_cost service-threads|service-threads-inprocess THREADS SECONDS\n"
                    "       kem_nif_cost service-bytes|service-bytes-inprocess BYTES CALLS\n");
    return 2;
  }
  std::string mode = argv[1];
  const long calls = std::stol(argv[2]), warmup = std::stol(argv[3]);
  const std::string source = double_integer();
  const std::vector<uint8_t> input{1, 3, 5, 7};
  const std::vector<uint8_t> expected{2, 6, 10, 14};

  const bool in_process = mode == "service-inprocess";
  if (in_process) mode = "service";
  if (mode != "run" && mode != "submit" && mode != "pool" && mode != "service") return 2;
  // The options a node gets by default (one device: this machine has one adapter).
  std::unique_ptr<kem::Executor> executor;
  std::unique_ptr<kem::Service> service;
  std::unique_ptr<kem::ExecutorPool> pool;
  if (mode == "pool") {
    kem::ExecutorPoolOptions options;
    options.adapters = {""};
    auto created = kem::ExecutorPool::create(options);
    if (!created) return fprintf(stderr, "kem_nif_cost: %s\n", created.error().message.c_str()), 1;
    pool = std::move(created).value();
  } else if (mode == "service") {
    service = open_service(!in_process);
    if (!service) return 1;
  } else {
    auto created = kem::Executor::create(kem::ExecutorOptions{});
    if (!created) return fprintf(stderr, "kem_nif_cost: %s\n", created.error().message.c_str()), 1;
    executor = std::move(created).value();
  }
  kem::KernelRequest request;  // as kem:execute({source, Wgsl}, Input) sends it
  request.source = source;
  request.input = input;
  request.timeout = std::chrono::milliseconds(30000);
  request.unmetered = false;

  std::vector<uint8_t> out;
  auto one = [&]() -> bool {
    if (mode == "run") {
      auto r = executor->run(request);
      if (!r) return false;
      out = std::move(*r);
      return true;
    }
    if (mode == "pool")
      return submit_and_wait([&](kem::Completion done) { pool->submit(request, std::move(done)); }, out);
    if (mode == "service")
      return submit_and_wait([&](kem::Completion done) {
        service->submit(kem::KernelRef::inline_source(source), request, std::move(done));
      }, out);
    return submit_and_wait([&](kem::Completion done) { executor->submit(request, std::move(done)); }, out);
  };
  if (!one() || out != expected) {
    fprintf(stderr, "kem_nif_cost: wrong first result\n");
    return 1;
  }
  for (long i = 0; i < warmup; ++i) one();
  std::vector<int64_t> samples;
  samples.reserve(calls);
  for (long i = 0; i < calls; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    if (!one()) {
      fprintf(stderr, "kem_nif_cost: a call failed\n");
      return 1;
    }
    samples.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
  }
  std::ofstream file(argv[4], std::ios::app);
  for (int64_t s : samples) file << s << '\n';
  std::sort(samples.begin(), samples.end());
  printf("C++ %s%s: median %.1f us over %ld calls\n", mode.c_str(), in_process ? " (in-process)" : "", samples[samples.size() / 2] / 1000.0, calls);
  return 0;
}
