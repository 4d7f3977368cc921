#include "sample_run.h"

#include <memory>
#include <vector>

#include "kem/executor.h"

namespace kem::conformance {
namespace {

std::string one_line(std::string m) {
  m = m.substr(0, m.find('\n'));
  for (char& c : m)
    if (c == '\t' || c == '\r') c = ' ';
  return m;
}

}  // namespace

std::string compare_metered_run(const std::string& source) {
  static std::unique_ptr<Executor> executor = [] {
    auto created = Executor::create();
    return created ? std::move(created).value() : nullptr;
  }();
  if (!executor) return "run-refused\tno executor";
  // Every compute entry point (the corpus names them freely); the first that fits the contract.
  auto reflected = reflect_wgsl(source);
  if (!reflected) return "run-refused\t" + one_line(reflected.error().message);
  std::string why = "no @compute entry point";
  for (const auto& ep : reflected->entry_points) {
    auto checked = executor->check(source, ep.name);
    if (!checked) { why = one_line(checked.error().message); continue; }
    // A fixed input and one workgroup: small, the same both ways.
    std::vector<uint8_t> input(256);
    for (size_t i = 0; i < input.size(); ++i) input[i] = static_cast<uint8_t>(i * 37 + 11);
    std::vector<uint8_t> params(16, 1);
    KernelRequest request;
    request.source = source;
    request.input = input;
    for (const auto& b : checked->bindings)
      if (b.group == 0 && b.binding == 2) request.params = params;
    request.entry = ep.name;
    request.output_size = 256;
    request.workgroups = std::array<uint32_t, 3>{1, 1, 1};
    request.timeout = std::chrono::milliseconds(10000);
    auto metered = executor->run(request);
    request.unmetered = true;
    auto plain = executor->run(request);
    if (!plain && !metered) return "run-failed\tboth ways: " + one_line(plain.error().message);
    // A deadline depends on the machine's load (the metered call does slightly more work), so
    // it is no evidence against metering; any other metered-only failure is.
    if (!metered && metered.error().code == ErrorCode::timeout)
      return "run-failed\tonly metered, deadline: " + one_line(metered.error().message);
    // Over budget: metering doing its job. The corpus's runaway loops (`for (; i < 4;) {}`) are
    // removed by the driver when unmetered, so only the metered call notices that they never end.
    if (!metered && metered.error().code == ErrorCode::budget_exceeded)
      return "run-over-budget\t" + one_line(metered.error().message);
    if (!metered) return "run-failed-metered\t" + one_line(metered.error().message);
    if (!plain) return "run-failed\tonly unmetered: " + one_line(plain.error().message);
    if (*metered != *plain) return "ran-different\t" + ep.name;
    return "ran-identical\t" + ep.name;
  }
  return "run-refused\t" + why;
}

}  // namespace kem::conformance
