// Arweave IDs are base64url, so one in 64 starts with '-', and a command-line parser reads
// "-Xyz..." as short options: `kem run -Xyz...` failed with "kernel is required". Before
// parsing, every argument that is a whole Arweave ID starting with '-' is made unambiguous:
// glued to the option before it when that option takes a value (`--unmetered-id=-Xyz...`),
// otherwise moved behind a `--`, where CLI11 reads everything as positional.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace kem::cli {

// argv[0..argc) rewritten as above; arguments after an existing `--` are left as they are.
std::vector<std::string> protect_dash_ids(const CLI::App& app, int argc, const char* const* argv);

}  // namespace kem::cli
