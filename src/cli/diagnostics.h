// Compile errors as compilers print them, for editors and CI annotators: each "LINE:COL:
// message" line of a compile_error becomes
//   FILE:LINE:COL: error: message
//     <the source line>
//     <spaces>^
// (the form of GCC, Clang and Tint), and, for tools, a JSON object with the same facts.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kem/error.h"

namespace kem::cli {

struct Diagnostic {
  std::optional<int> line;    // 1-based, when the message names a position
  std::optional<int> column;  // 1-based
  std::string message;
};

// The diagnostics of a compile_error's message, one per line of it.
std::vector<Diagnostic> parse_diagnostics(std::string_view message);

// FILE:LINE:COL: error: ... with the source line and a caret, one block per diagnostic.
std::string format_diagnostics(const std::string& file, std::string_view source,
                               const std::vector<Diagnostic>& diagnostics);

// {"error": "compile_error", "file": FILE, "diagnostics": [{"line", "column", "message"}]}.
nlohmann::json diagnostics_json(const std::string& file, const std::vector<Diagnostic>& diagnostics);

// Prints a kernel's error on stderr: a compile error as above, anything else as print_error.
void print_kernel_error(const std::string& file, std::string_view source, const Error& error);

}  // namespace kem::cli
