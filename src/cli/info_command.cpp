// `kem info`: the devices a kem::Service opens with these settings, as JSON: the first device's
// adapter (name, backend, limits...) and, in "devices", every device with its load and health.
#include <iostream>

#include "cli/cli_io.h"
#include "cli/cli_service.h"
#include "cli/commands.h"

namespace kem::cli {
namespace {

struct InfoArgs {
  bool all_gpus = false;
  std::unique_ptr<SettingFlags> settings;
};

int info(const InfoArgs& args) {
  OpenedService opened = open_service(*args.settings, nullptr, args.all_gpus);
  if (!opened.service) return opened.exit_status;
  std::cout << opened.service->adapter_info_json() << "\n";
  return kExitOk;
}

}  // namespace

void add_info_command(CLI::App& app, int& exit_status) {
  auto* cmd = app.add_subcommand("info", "Print the GPU devices KEM would use, as JSON");
  auto args = std::make_shared<InfoArgs>();
  cmd->add_flag("--all-gpus", args->all_gpus, "Every GPU of the machine, as a node opens them (--adapters unset)");
  args->settings = std::make_unique<SettingFlags>(cmd, std::vector<std::string_view>{"devices"});
  cmd->callback([args, &exit_status] { exit_status = info(*args); });
}

}  // namespace kem::cli
