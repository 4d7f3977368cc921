// Input and output helpers shared by the kem subcommands.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "kem/result.h"

namespace kem::cli {

// Reads a whole file, or standard input for "-".
Result<std::vector<uint8_t>> read_bytes(const std::string& path);

// Formats output bytes: "raw" (as is), "hex" (lowercase, one line), "u32" (little-endian words,
// one per line; a ragged tail is zero-padded).
Result<std::string> format_output(std::span<const uint8_t> bytes, const std::string& format);

// Prints "kem: <code>: <message>" on stderr.
void print_error(const Error& error);

}  // namespace kem::cli
