#include "executor/session/admission.h"

#include <algorithm>
#include <functional>
#include <string>
#include <string_view>

namespace kem::executor {
namespace {

int64_t ms_up(Duration d) { return std::chrono::ceil<std::chrono::milliseconds>(d).count(); }

void mix(uint64_t& h, uint64_t v) { h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2); }

}  // namespace

uint64_t service_key(const KernelRequest& request, bool metered) {
  uint64_t h = std::hash<std::string_view>{}(request.source);
  mix(h, std::hash<std::string_view>{}(request.entry));
  mix(h, metered ? 1 : 2);
  for (const auto& [name, value] : request.overrides) {
    mix(h, std::hash<std::string_view>{}(name));
    mix(h, std::hash<double>{}(value));
  }
  return h;
}

Status admit(Duration wait, Duration estimate, Duration left, std::chrono::milliseconds timeout) {
  if (estimate.count() <= 0 || wait + estimate <= left) return {};
  if (estimate > timeout) {
    return make_error(ErrorCode::timeout, "refused before it ran: calls of this kernel took at least " +
                                              std::to_string(ms_up(estimate)) + " ms here lately, more than the call's " +
                                              std::to_string(timeout.count()) + " ms");
  }
  // Not even an idle device would finish it in what is left of its deadline: waiting cannot
  // help this call, so it is a timeout, not a busy device (which the pool would try elsewhere).
  if (estimate > left) {
    return make_error(ErrorCode::timeout, "refused before it ran: calls of this kernel took at least " +
                                              std::to_string(ms_up(estimate)) + " ms here lately, more than the " +
                                              std::to_string(std::max<int64_t>(0, ms_up(left))) +
                                              " ms left of the call's deadline");
  }
  Error busy = make_error(ErrorCode::unavailable,
                          "the device is busy: about " + std::to_string(ms_up(wait)) +
                              " ms of work is ahead of this call, which takes about " + std::to_string(ms_up(estimate)) +
                              " ms, and its deadline is " + std::to_string(ms_up(left)) + " ms away; try again later");
  // When the work ahead will have shrunk enough for a call of the same time to fit.
  busy.retry_after = std::max(std::chrono::milliseconds(1), std::chrono::ceil<std::chrono::milliseconds>(wait + estimate - left));
  return busy;
}

}  // namespace kem::executor
