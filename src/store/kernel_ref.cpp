// Telling an Arweave ID from a file path, and where the cache lives by default.
#include <cstdlib>
#include <string>

#include "kem/kernel_store.h"

namespace kem {
namespace {

constexpr std::size_t kIdLength = 43;  // 32 bytes in unpadded base64url

bool is_base64url_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// The 43rd character carries 2 bits that do not fit the 32 bytes; an encoder writes zeros,
// so only A, E, I, ... can end a real ID.
bool is_canonical_last(char c) {
  const std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  return alphabet.find(c) % 4 == 0;
}

}  // namespace

Status validate_arweave_id(std::string_view text) {
  if (text.size() != kIdLength) {
    return make_error(ErrorCode::invalid_argument, "not an Arweave ID: " + std::to_string(text.size()) +
                                                       " characters, an ID has exactly 43 (base64url)");
  }
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (!is_base64url_char(text[i])) {
      return make_error(ErrorCode::invalid_argument, "not an Arweave ID: character " + std::to_string(i + 1) +
                                                         " is not base64url (A-Z a-z 0-9 - _)");
    }
  }
  if (!is_canonical_last(text.back())) {
    return make_error(ErrorCode::invalid_argument, "not an Arweave ID: its last character does not end 32 bytes");
  }
  return {};
}

bool is_arweave_id(std::string_view text) { return validate_arweave_id(text).ok(); }

KernelRef parse_kernel_ref(std::string_view text) {
  if (is_arweave_id(text)) return KernelRef::id(std::string(text));
  return KernelRef::file(std::string(text));
}

std::string default_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg == '/') return std::string(xdg) + "/kem/kernels";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/kem/kernels";
  return ".kem-cache/kernels";
}

}  // namespace kem
