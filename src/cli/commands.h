// The kem command's subcommands. Each registers itself on the app and, when it runs, sets
// `exit_status`: 0 success, 1 kernel or runtime error, 2 usage error.
#pragma once

#include <CLI/CLI.hpp>

namespace kem::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

void add_run_command(CLI::App& app, int& exit_status);
void add_check_command(CLI::App& app, int& exit_status);
void add_info_command(CLI::App& app, int& exit_status);
void add_settings_command(CLI::App& app, int& exit_status);

}  // namespace kem::cli
