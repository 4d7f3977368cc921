// kem: run and check WGSL kernels, and inspect the GPU, from the command line.
#include <iostream>

#include "cli/commands.h"
#include "cli/dash_ids.h"
#include "cli/store_options.h"

int main(int argc, char** argv) {
  int exit_status = kem::cli::kExitOk;
  CLI::App app{"kem - the kernel execution machine: runs WGSL compute kernels on the GPU"};
  app.require_subcommand(1);
  kem::cli::add_run_command(app, exit_status);
  kem::cli::add_check_command(app, exit_status);
  kem::cli::add_info_command(app, exit_status);
  kem::cli::add_fetch_command(app, exit_status);
  kem::cli::add_settings_command(app, exit_status);
  try {
    std::vector<std::string> arguments = kem::cli::protect_dash_ids(app, argc, argv);
    std::vector<const char*> pointers;
    for (const std::string& argument : arguments) pointers.push_back(argument.c_str());
    app.parse(static_cast<int>(pointers.size()), pointers.data());
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kem::cli::kExitOk : kem::cli::kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "kem: internal: " << e.what() << "\n";
    return kem::cli::kExitFailure;
  }
  return exit_status;
}
