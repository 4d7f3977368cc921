// Errors are values in KEM: every fallible call returns kem::Result<T>, never throws across
// the library's API. An Error is a stable machine-readable code plus a message for people.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace kem {

enum class ErrorCode {
  invalid_argument,     // the request itself is malformed (empty input, bad hint, bad params...)
  limit_exceeded,       // a configured or adapter limit would be passed
  compile_error,        // WGSL did not compile, or does not follow the kernel contract
  no_adapter,           // no usable GPU adapter (or only Dawn's Null backend)
  device_lost,          // the device was lost while running the call
  timeout,              // the call passed its deadline
  gpu_error,            // a validation / out-of-memory / internal error reported by WebGPU
  budget_exceeded,      // a metered kernel ran past its loop-iteration budget
  not_found,            // a kernel reference that does not exist
  unavailable,          // a gateway could not be reached, or KEM is too busy to take the call now
  verification_failed,  // bytes do not match what their ID commits to
  io_error,             // local file system errors
  internal,             // a bug in KEM itself
};

// Stable snake_case name of a code, e.g. "compile_error"; used in JSON, Erlang atoms and exits.
std::string_view to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;
  // When trying again later may succeed (unavailable: every gateway backing off, or a call
  // refused because the devices are busy), about how long to wait; zero when unknown. The
  // HTTP endpoint sends it as Retry-After.
  std::chrono::milliseconds retry_after{0};
};

}  // namespace kem
