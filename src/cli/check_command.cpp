#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/cli_io.h"
#include "cli/commands.h"
#include "cli/store_options.h"

namespace kem::cli {
namespace {

struct CheckArgs {
  std::string kernel;
  std::string entry = "main";
  std::string adapter;
  StoreCliOptions store;
};

int check(const CheckArgs& args) {
  auto kernel = resolve_kernel_argument(args.kernel, args.store);
  if (!kernel) return print_error(kernel.error()), kExitFailure;
  const std::string& source = kernel->source;
  auto executor = make_executor(args.adapter);
  if (!executor) return print_error(executor.error()), kExitFailure;
  auto reflection = (*executor)->check(source, args.entry);
  if (!reflection) {
    // Compile errors read like a compiler's: FILE:LINE:COLUMN: message.
    const Error& e = reflection.error();
    if (e.code == ErrorCode::compile_error) {
      std::stringstream lines(e.message);
      std::string line;
      while (std::getline(lines, line)) std::cerr << args.kernel << ":" << line << "\n";
    } else {
      print_error(e);
    }
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
  cmd->add_option("--adapter", args->adapter, "Adapter: name substring, #index, cpu");
  add_store_options(cmd, args->store);
  cmd->callback([args, &exit_status] { exit_status = check(*args); });
}

}  // namespace kem::cli
