#include "cli/store_options.h"

#include <filesystem>
#include <iostream>
#include <iterator>

namespace kem::cli {

Result<KernelRef> kernel_ref_argument(const std::string& argument) {
  std::error_code ignored;
  if (argument == "-")
    return KernelRef::inline_source(std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()));
  if (std::filesystem::is_regular_file(argument, ignored)) return KernelRef::file(argument);
  if (is_arweave_id(argument)) return KernelRef::id(argument);
  return make_error(ErrorCode::not_found, "kernel '" + argument + "' is neither an existing file nor an Arweave ID (" +
                                              validate_arweave_id(argument).error().message + ")");
}

}  // namespace kem::cli
