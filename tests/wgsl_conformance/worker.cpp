#include "worker.h"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "sample_run.h"
#include "executor/metered_module.h"
#include "webgpu/device.h"
#include "webgpu/instance.h"
#include "wgsl/metering.h"
#include "wgsl/parsed_module.h"
#include "wgsl/reflect.h"

namespace kem::conformance {
namespace {

void emit(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) std::_Exit(4);  // the parent is gone
    done += static_cast<size_t>(n);
  }
}

// The first line of a message, without tabs, so that a verdict stays one line.
std::string one_line(const std::string& message) {
  std::string line = message.substr(0, message.find('\n'));
  for (char& c : line)
    if (c == '\t' || c == '\r') c = ' ';
  return line;
}

// KEM's front end as compile_kernel runs it for a metered call: parse, reflect; metering and
// Dawn's compile of its text, with the executor's retry, follow in compile_metered.
struct FrontEnd {
  Result<wgsl::ParsedModule> parsed;
  Result<Reflection> reflection;
};

FrontEnd front_end(std::string_view source) {
  Result<wgsl::ParsedModule> parsed = wgsl::parse_kernel(source);
  if (!parsed) return {parsed.error(), parsed.error()};
  Result<Reflection> reflection = reflect(*parsed);
  return {std::move(parsed), std::move(reflection)};
}

// Test hook (fault_test.sh): KEM_CONFORMANCE_TEST_FAULT=crash:NAME or stall:NAME makes the child
// die or hang where Tint would, on that file, so that the driver's handling of both is tested.
void injected_fault(const std::string& file) {
  const char* fault = std::getenv("KEM_CONFORMANCE_TEST_FAULT");
  if (!fault) return;
  std::string f = fault;
  if (f.find(':') == std::string::npos || !file.ends_with("/" + f.substr(f.find(':') + 1))) return;
  if (f.starts_with("crash:")) std::abort();
  if (f.starts_with("stall:")) ::pause();
}

std::string verdict(gpu::Device& device, const std::string& file, const std::string& source, int fd, bool run) {
  FrontEnd kem = front_end(source);
  emit(fd, "~front\n");
  injected_fault(file);
  // Module creation is Tint's verdict; the compute pipeline (lavapipe's compile) is not made.
  auto tint = device.compile(source);
  emit(fd, "~tint\n");
  if (!tint) return kem.reflection ? "tint-rejects\tKEM accepts; Tint: " + one_line(tint.error().message)
                                   : "tint-rejects\tboth reject; Tint: " + one_line(tint.error().message);
  if (!kem.reflection) return "kem-refuses\t" + one_line(kem.reflection.error().message);
  MeteringOptions options;
  options.workgroup_storage_limit = device.limits().maxComputeWorkgroupStorageSize;
  executor::MeteredModule metered = executor::compile_metered(device, *kem.parsed, *kem.reflection, options);
  // The driver sorts contract reasons (the meter's reserved binding is one).
  if (!metered.kernel) return "kem-refuses\t" + one_line(metered.kernel.error().message);
  if (!*metered.module) return "metered-rejected\t" + one_line(metered.module->error().message);
  if (!run) return "agree-accept\t";
  emit(fd, "~run\n");  // pipelines from here on: lavapipe compiles, both ways
  return compare_metered_run(source);
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif

int run_worker(const std::vector<std::string>& files, size_t start, int fd, bool run) {
  if (run && !kAddressSanitizer) {
    // lavapipe's compile of bug/chromium/1367602_storage_space.wgsl grows past 7 GB: 4 GiB of
    // address space (enough for every other corpus file) turns that into a counted crash.
    // Not under AddressSanitizer, whose shadow memory alone reserves terabytes of address space
    // (every mmap would fail); the CI shard of metered runs does not include that file.
    rlimit cap{4ull << 30, 4ull << 30};
    ::setrlimit(RLIMIT_AS, &cap);
  }
  auto instance = gpu::Instance::create();
  if (!instance) return emit(fd, "!" + one_line(instance.error().message) + "\n"), 2;
  const char* selector = std::getenv("KEM_ADAPTER");  // as the executor picks its adapter
  auto adapter = (*instance)->request_adapter(selector ? selector : "");
  if (!adapter) return emit(fd, "!" + one_line(adapter.error().message) + "\n"), 2;
  // Like GpuSession: Core, the adapter's own limits, no optional features.
  auto device = gpu::Device::create(**instance, *adapter);
  if (!device) return emit(fd, "!" + one_line(device.error().message) + "\n"), 2;
  for (size_t i = start; i < files.size(); ++i) {
    emit(fd, "~start\n");
    std::ifstream in(files[i], std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    emit(fd, "=" + verdict(**device, files[i], text.str(), fd, run) + "\n");
    if ((*device)->lost()) return 3;  // the driver starts a fresh child at the next file
  }
  return 0;
}

}  // namespace kem::conformance
