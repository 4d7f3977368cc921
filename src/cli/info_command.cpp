#include <iostream>
#include <sstream>

#include "cli/cli_io.h"
#include "cli/commands.h"
#include "kem/executor_pool.h"

namespace kem::cli {
namespace {

std::vector<std::string> split_commas(const std::string& list) {
  std::vector<std::string> parts;
  std::stringstream in(list);
  for (std::string part; std::getline(in, part, ',');) parts.push_back(part);
  if (!list.empty() && list.back() == ',') parts.push_back("");
  return parts;
}

struct InfoOptions {
  std::string adapter;
  size_t devices = 0;     // per adapter; 0: not asked for
  bool all_gpus = false;
};

// Several devices: the pool's description, {"devices": [...], "total": ..., "retries": ...}.
void print_pool(const InfoOptions& o, int& exit_status) {
  ExecutorPoolOptions options;
  if (!o.all_gpus) options.adapters = split_commas(o.adapter);
  options.devices_per_adapter = o.devices ? o.devices : 1;
  auto pool = ExecutorPool::create(options);
  if (!pool) {
    print_error(pool.error());
    exit_status = kExitFailure;
    return;
  }
  std::cout << (*pool)->adapter_info_json() << "\n";
  exit_status = kExitOk;
}

}  // namespace

void add_info_command(CLI::App& app, int& exit_status) {
  auto* cmd = app.add_subcommand(
      "info", "Print the GPU adapter KEM would use as JSON; with several devices, every device of the pool");
  auto o = std::make_shared<InfoOptions>();
  cmd->add_option("--adapter", o->adapter,
                  "Adapter: name substring, #index, @index (every physical GPU), cpu (default: high "
                  "performance); a comma-separated list opens one device on each");
  cmd->add_option("--devices", o->devices, "Devices opened on each adapter (a pool)")->check(CLI::PositiveNumber);
  cmd->add_flag("--all-gpus", o->all_gpus, "A pool over every GPU of the machine");
  cmd->callback([o, &exit_status] {
    // One adapter and no pool asked for: the single adapter's JSON object, as before.
    if (o->all_gpus || o->devices > 0 || o->adapter.find(',') != std::string::npos)
      return print_pool(*o, exit_status);
    auto executor = make_executor(o->adapter);
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
