#include "cli/cli_io.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

namespace kem::cli {

Result<std::vector<uint8_t>> read_bytes(const std::string& path) {
  if (path == "-") {
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
    return bytes;
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) return make_error(ErrorCode::io_error, "cannot open '" + path + "': " + std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) return make_error(ErrorCode::io_error, "cannot read '" + path + "'");
  return bytes;
}

Result<std::string> format_output(std::span<const uint8_t> bytes, const std::string& format) {
  if (format == "raw") return std::string(bytes.begin(), bytes.end());
  if (format == "hex") {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2 + 1);
    for (uint8_t b : bytes) {
      out.push_back(digits[b >> 4]);
      out.push_back(digits[b & 15]);
    }
    out.push_back('\n');
    return out;
  }
  if (format == "u32") {
    std::string out;
    for (size_t i = 0; i < bytes.size(); i += 4) {
      uint32_t word = 0;
      std::memcpy(&word, bytes.data() + i, std::min<size_t>(4, bytes.size() - i));
      out += std::to_string(word);
      out.push_back('\n');
    }
    return out;
  }
  return make_error(ErrorCode::invalid_argument, "unknown format '" + format + "' (raw, hex, u32)");
}

void print_error(const Error& error) {
  std::cerr << "kem: " << to_string(error.code) << ": " << error.message << "\n";
}

}  // namespace kem::cli
