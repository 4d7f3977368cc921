// `kem fetch ID`: the kernel store from the command line. The source goes to stdout as is,
// so it can be piped or redirected; where it came from and how it was verified go to stderr.
// It needs no GPU, so it opens the store alone rather than a whole kem::Service.
#include <iostream>
#include <memory>

#include "cli/cli_io.h"
#include "cli/commands.h"
#include "cli/setting_flags.h"
#include "cli/store_options.h"

namespace kem::cli {
namespace {

struct FetchArgs {
  std::string id;
  std::unique_ptr<SettingFlags> settings;
};

int fetch(const FetchArgs& args) {
  if (Status valid = validate_arweave_id(args.id); !valid) return print_error(valid.error()), kExitUsage;
  auto options = args.settings->apply();
  if (!options) return print_error(options.error()), kExitUsage;
  auto store = KernelStore::create(options->store);
  if (!store) return print_error(store.error()), kExitFailure;
  auto kernel = (*store)->resolve(KernelRef::id(args.id));
  if (!kernel) return print_error(kernel.error()), kExitFailure;
  std::cout.write(kernel->source.data(), static_cast<std::streamsize>(kernel->source.size()));
  std::cout.flush();
  std::cerr << "kem: " << kernel->describe() << "\n";
  return kExitOk;
}

}  // namespace

void add_fetch_command(CLI::App& app, int& exit_status) {
  auto args = std::make_shared<FetchArgs>();
  auto* command = app.add_subcommand("fetch", "Fetch a kernel by Arweave ID, verify it, and print its source");
  command->add_option("id", args->id, "Arweave ID of the kernel (43 characters of base64url)")->required();
  args->settings = std::make_unique<SettingFlags>(command, std::vector<std::string_view>{"store"});
  command->callback([args, &exit_status] { exit_status = fetch(*args); });
}

}  // namespace kem::cli
