// `kem fetch ID`: the kernel store from the command line. The source goes to stdout as is,
// so it can be piped or redirected; where it came from and how it was verified go to stderr.
#include <iostream>
#include <memory>

#include "cli/store_options.h"

namespace kem::cli {
namespace {

constexpr int kFetchOk = 0;
constexpr int kFetchFailed = 1;
constexpr int kFetchUsage = 2;

struct FetchArgs {
  std::string id;
  StoreCliOptions store;
};

int fetch(const FetchArgs& args) {
  if (Status valid = validate_arweave_id(args.id); !valid) {
    std::cerr << "kem: " << to_string(valid.error().code) << ": " << valid.error().message << "\n";
    return kFetchUsage;
  }
  auto kernel = resolve_kernel_argument(args.id, args.store);
  if (!kernel) {
    std::cerr << "kem: " << to_string(kernel.error().code) << ": " << kernel.error().message << "\n";
    return kFetchFailed;
  }
  std::cout.write(kernel->source.data(), static_cast<std::streamsize>(kernel->source.size()));
  std::cout.flush();
  std::cerr << "kem: " << kernel->describe() << "\n";
  return kFetchOk;
}

}  // namespace

void add_fetch_command(CLI::App& app, int& exit_status) {
  auto args = std::make_shared<FetchArgs>();
  auto* command = app.add_subcommand("fetch", "Fetch a kernel by Arweave ID, verify it, and print its source");
  command->add_option("id", args->id, "Arweave ID of the kernel (43 characters of base64url)")->required();
  add_store_options(command, args->store);
  command->callback([args, &exit_status] { exit_status = fetch(*args); });
}

}  // namespace kem::cli
