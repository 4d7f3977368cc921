#include "cli/kernel_source.h"

#include "cli/cli_io.h"

namespace kem::cli {

void add_kernel_source_options(CLI::App*, KernelSourceOptions&) {}

Result<std::string> load_kernel_source(const std::string& argument, const KernelSourceOptions&) {
  auto bytes = read_bytes(argument);
  if (!bytes) return bytes.take_error();
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace kem::cli
