// The KERNEL argument of kem run, check and fetch turned into a kernel reference: "-" (standard
// input), a path to an existing file, or an Arweave ID. The store's own flags come from the
// settings table (cli/setting_flags.h).
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "kem/kernel_store.h"

namespace kem::cli {

// not_found for an argument that is neither an existing file nor an ID.
Result<KernelRef> kernel_ref_argument(const std::string& argument);

// `kem fetch ID`: prints the verified source on stdout and its provenance on stderr.
// exit_status: 0 ok, 1 fetch or verification error, 2 usage (a malformed ID included).
void add_fetch_command(CLI::App& app, int& exit_status);

}  // namespace kem::cli
