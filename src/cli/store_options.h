// Kernel store options shared by `kem fetch` and `kem run`: --gateway (repeatable),
// --cache-dir, --offline, --verify required|off, --pin-dir, --allow-owner (repeatable); and
// the KERNEL argument turned into source: "-" (standard input), a path to an existing file,
// or an Arweave ID fetched and verified through the kernel store.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "kem/kernel_store.h"

namespace kem::cli {

struct StoreCliOptions {
  std::vector<std::string> gateways;  // empty: the store's defaults
  std::string cache_dir;              // empty: default_cache_dir()
  bool offline = false;
  std::string verify = "required";
  std::string pin_dir;
  std::vector<std::string> allowed_owners;
};

void add_store_options(CLI::App* command, StoreCliOptions& options);

StoreOptions to_store_options(const StoreCliOptions& options);

// Errors as KernelStore::resolve; not_found for an argument that is neither a file nor an ID.
Result<ResolvedKernel> resolve_kernel_argument(const std::string& argument, const StoreCliOptions& options);

// `kem fetch ID`: prints the verified source on stdout and its provenance on stderr.
// exit_status: 0 ok, 1 fetch or verification error, 2 usage (a malformed ID included).
void add_fetch_command(CLI::App& app, int& exit_status);

}  // namespace kem::cli
