// Turns the KERNEL argument of `kem run` / `kem check` into WGSL source: a path to a .wgsl file,
// or an Arweave ID resolved through the kernel store.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "kem/result.h"

namespace kem::cli {

struct KernelSourceOptions {};

void add_kernel_source_options(CLI::App* command, KernelSourceOptions& options);
Result<std::string> load_kernel_source(const std::string& argument, const KernelSourceOptions& options);

}  // namespace kem::cli
