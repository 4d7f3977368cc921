#include "kem/error.h"

namespace kem {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::limit_exceeded: return "limit_exceeded";
    case ErrorCode::compile_error: return "compile_error";
    case ErrorCode::no_adapter: return "no_adapter";
    case ErrorCode::device_lost: return "device_lost";
    case ErrorCode::timeout: return "timeout";
    case ErrorCode::gpu_error: return "gpu_error";
    case ErrorCode::budget_exceeded: return "budget_exceeded";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::unavailable: return "unavailable";
    case ErrorCode::verification_failed: return "verification_failed";
    case ErrorCode::io_error: return "io_error";
    case ErrorCode::internal: return "internal";
  }
  return "internal";
}

}  // namespace kem
