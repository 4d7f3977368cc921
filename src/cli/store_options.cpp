#include "cli/store_options.h"

#include <filesystem>
#include <iostream>
#include <iterator>

namespace kem::cli {

void add_store_options(CLI::App* command, StoreCliOptions& options) {
  command->add_option("--gateway", options.gateways,
                      "Arweave gateway URL, tried in the order given (repeatable; default https://arweave.net, "
                      "then https://turbo-gateway.com)");
  command->add_option("--cache-dir", options.cache_dir, "Kernel cache directory (default " + default_cache_dir() + ")");
  command->add_flag("--offline", options.offline, "Serve kernels from the cache and pins only; no network");
  command->add_option("--verify", options.verify, "Prove fetched bytes against their ID: required (default) or off")
      ->check(CLI::IsMember({"required", "off"}));
  command->add_option("--pin-dir", options.pin_dir, "Directory of operator-trusted <ID>.wgsl kernels");
  command->add_option("--allow-owner", options.allowed_owners,
                      "Only accept kernels signed by this owner address (repeatable)");
}

StoreOptions to_store_options(const StoreCliOptions& options) {
  StoreOptions store;
  if (!options.gateways.empty()) store.gateways = options.gateways;
  store.cache_dir = options.cache_dir;
  store.offline = options.offline;
  store.verify = options.verify == "off" ? VerifyPolicy::off : VerifyPolicy::required;
  store.pin_dir = options.pin_dir;
  store.allowed_owners = options.allowed_owners;
  return store;
}

Result<ResolvedKernel> resolve_kernel_argument(const std::string& argument, const StoreCliOptions& options) {
  KernelRef ref;
  std::error_code ignored;
  if (argument == "-") {
    std::string source(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    ref = KernelRef::inline_source(std::move(source));
  } else if (std::filesystem::is_regular_file(argument, ignored)) {
    ref = KernelRef::file(argument);
  } else if (is_arweave_id(argument)) {
    ref = KernelRef::id(argument);
  } else {
    return make_error(ErrorCode::not_found, "kernel '" + argument + "' is neither an existing file nor an Arweave ID (" +
                                                validate_arweave_id(argument).error().message + ")");
  }
  StoreOptions store_options = to_store_options(options);
  // Files and standard input need no cache: do not create a cache directory for them.
  if (ref.kind != KernelRef::Kind::arweave_id) store_options.disk_cache = false;
  auto store = KernelStore::create(std::move(store_options));
  if (!store) return store.take_error();
  return (*store)->resolve(ref);
}

}  // namespace kem::cli
