#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/cli_io.h"
#include "cli/commands.h"
#include "cli/diagnostics.h"
#include "cli/cli_service.h"
#include "cli/store_options.h"

namespace kem::cli {
namespace {

struct CheckArgs {
  std::string kernel;
  std::string entry = "main";
  std::string format = "text";
  std::unique_ptr<SettingFlags> settings;
};

int check(const CheckArgs& args) {
  auto kernel = kernel_ref_argument(args.kernel);
  if (!kernel) return print_error(kernel.error()), kExitFailure;
  OpenedService opened = open_service(*args.settings, &*kernel);
  if (!opened.service) return opened.exit_status;
  auto reflection = opened.service->check(*kernel, args.entry);
  if (!reflection) {
    // Compile errors read like a compiler's (FILE:LINE:COL: error: ..., with a caret), or, with
    // --format json, as JSON on standard output for tools.
    const Error& e = reflection.error();
    if (args.format == "json" && e.code == ErrorCode::compile_error)
      std::cout << diagnostics_json(args.kernel, parse_diagnostics(e.message)).dump(2) << "\n";
    else
      report_kernel_error(*opened.service, *kernel, args.kernel, e);
    return kExitFailure;
  }
  nlohmann::json out;
  out["entry_points"] = nlohmann::json::array();
  for (const auto& e : reflection->entry_points)
    out["entry_points"].push_back({{"name", e.name}, {"workgroup_size", e.workgroup_size}});
  out["bindings"] = nlohmann::json::array();
  for (const auto& b : reflection->bindings)
    out["bindings"].push_back({{"group", b.group},
                               {"binding", b.binding},
                               {"name", b.name},
                               {"address_space", std::string(to_string(b.address_space))},
                               {"access", std::string(to_string(b.access))},
                               {"type", b.type}});
  std::cout << out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  return kExitOk;
}

}  // namespace

void add_check_command(CLI::App& app, int& exit_status) {
  auto* cmd = app.add_subcommand("check", "Compile a kernel and print its bindings and workgroup size");
  auto args = std::make_shared<CheckArgs>();
  cmd->add_option("kernel", args->kernel, "Kernel: a .wgsl file or an Arweave ID")->required();
  cmd->add_option("--entry", args->entry, "Entry point (default main)");
  cmd->add_option("--format", args->format,
                  "text (FILE:LINE:COL: error: lines) or json (compile errors as JSON on stdout)")
      ->check(CLI::IsMember({"text", "json"}));
  args->settings = std::make_unique<SettingFlags>(cmd);
  cmd->callback([args, &exit_status] { exit_status = check(*args); });
}

}  // namespace kem::cli
