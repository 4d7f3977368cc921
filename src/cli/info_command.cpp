#include <iostream>

#include "cli/cli_io.h"
#include "cli/commands.h"

namespace kem::cli {

void add_info_command(CLI::App& app, int& exit_status) {
  auto* cmd = app.add_subcommand("info", "Print the GPU adapter KEM would use, as JSON");
  auto adapter = std::make_shared<std::string>();
  cmd->add_option("--adapter", *adapter, "Adapter: name substring, #index, cpu (default: high performance)");
  cmd->callback([adapter, &exit_status] {
    auto executor = make_executor(*adapter);
    if (!executor) {
      print_error(executor.error());
      exit_status = kExitFailure;
      return;
    }
    std::cout << (*executor)->adapter_info_json() << "\n";
    exit_status = kExitOk;
  });
}

}  // namespace kem::cli
