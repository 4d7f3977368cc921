#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/cli_io.h"
#include "cli/diagnostics.h"
#include "cli/commands.h"
#include "cli/cli_service.h"
#include "cli/store_options.h"

namespace kem::cli {
namespace {

struct RunArgs {
  std::string kernel;
  std::string input = "-";
  uint64_t hint = 1;
  std::optional<uint64_t> output_size;
  std::string params_file;
  std::vector<uint32_t> params;
  std::string workgroups;
  std::vector<std::string> overrides;  // NAME=VALUE, repeatable
  std::string entry = "main";
  std::string format = "raw";
  std::string output;
  std::optional<uint64_t> timeout_ms;  // unset: the service's default_timeout
  std::unique_ptr<SettingFlags> settings;  // --loop-budget among them: one call, one budget
};

Result<std::array<uint32_t, 3>> parse_workgroups(const std::string& text) {
  std::array<uint32_t, 3> counts{1, 1, 1};
  std::stringstream in(text);
  std::string part;
  int axis = 0;
  while (std::getline(in, part, ',')) {
    if (axis == 3) return make_error(ErrorCode::invalid_argument, "--workgroups takes at most 3 numbers");
    try {
      size_t used = 0;
      unsigned long v = std::stoul(part, &used);
      if (used != part.size() || v == 0 || v > UINT32_MAX) throw std::invalid_argument(part);
      counts[axis++] = static_cast<uint32_t>(v);
    } catch (const std::exception&) {
      return make_error(ErrorCode::invalid_argument, "--workgroups: '" + part + "' is not a count >= 1");
    }
  }
  if (axis == 0) return make_error(ErrorCode::invalid_argument, "--workgroups needs X[,Y[,Z]]");
  return counts;
}

// NAME=VALUE with VALUE a number (true / false for a bool override). The kernel's declarations
// are checked by the executor, which names what is wrong.
Result<std::pair<std::string, double>> parse_override(const std::string& text) {
  const size_t eq = text.find('=');
  auto bad = [&] {
    return make_error(ErrorCode::invalid_argument, "--override: '" + text + "' is not NAME=VALUE with a number VALUE");
  };
  if (eq == 0 || eq == std::string::npos || eq + 1 == text.size()) return bad();
  const std::string name = text.substr(0, eq), value = text.substr(eq + 1);
  if (value == "true") return std::make_pair(name, 1.0);
  if (value == "false") return std::make_pair(name, 0.0);
  try {
    size_t used = 0;
    const double v = std::stod(value, &used);
    if (used != value.size()) return bad();
    return std::make_pair(name, v);
  } catch (const std::exception&) {  // std::stod's way of saying "not a number"; kept inside
    return bad();
  }
}

int run(const RunArgs& args) {
  auto kernel = kernel_ref_argument(args.kernel);
  if (!kernel) return print_error(kernel.error()), kExitFailure;
  auto input = read_bytes(args.input);
  if (!input) return print_error(input.error()), kExitFailure;

  std::vector<uint8_t> params;
  if (!args.params_file.empty()) {
    auto bytes = read_bytes(args.params_file);
    if (!bytes) return print_error(bytes.error()), kExitFailure;
    params = std::move(bytes).value();
  }
  for (uint32_t p : args.params) {
    const auto* b = reinterpret_cast<const uint8_t*>(&p);
    params.insert(params.end(), b, b + 4);
  }

  KernelRequest request;
  request.input = *input;
  request.params = params;
  request.entry = args.entry;
  request.output_size_hint = args.hint;
  request.output_size = args.output_size;
  if (args.timeout_ms) request.timeout = std::chrono::milliseconds(*args.timeout_ms);
  for (const std::string& o : args.overrides) {
    auto parsed = parse_override(o);
    if (!parsed) return print_error(parsed.error()), kExitUsage;
    request.overrides.push_back(std::move(parsed).value());
  }
  if (!args.workgroups.empty()) {
    auto w = parse_workgroups(args.workgroups);
    if (!w) return print_error(w.error()), kExitUsage;
    request.workgroups = *w;
  }

  OpenedService opened = open_service(*args.settings, &*kernel);
  if (!opened.service) return opened.exit_status;
  auto output = opened.service->run(*kernel, std::move(request));
  if (!output) return report_kernel_error(*opened.service, *kernel, args.kernel, output.error()), kExitFailure;
  auto text = format_output(*output, args.format);
  if (!text) return print_error(text.error()), kExitUsage;

  if (args.output.empty() || args.output == "-") {
    std::cout.write(text->data(), static_cast<std::streamsize>(text->size()));
    std::cout.flush();
  } else {
    std::ofstream file(args.output, std::ios::binary);
    file.write(text->data(), static_cast<std::streamsize>(text->size()));
    if (!file) return print_error(make_error(ErrorCode::io_error, "cannot write '" + args.output + "'")), kExitFailure;
  }
  return kExitOk;
}

}  // namespace

void add_run_command(CLI::App& app, int& exit_status) {
  auto* cmd = app.add_subcommand("run", "Run a WGSL kernel on input bytes and print its output");
  auto args = std::make_shared<RunArgs>();
  cmd->add_option("kernel", args->kernel, "Kernel: a .wgsl file or an Arweave ID")->required();
  cmd->add_option("--input", args->input, "Input file, or - for standard input (default)");
  cmd->add_option("--hint", args->hint, "Output size = input length x hint (default 1)");
  cmd->add_option("--output-size", args->output_size, "Exact output size in bytes (overrides --hint)");
  cmd->add_option("--params", args->params_file, "File of params bytes (a multiple of 4), bound at @binding(2)");
  cmd->add_option("--param", args->params, "A u32 param (repeatable), appended after --params");
  cmd->add_option("--workgroups", args->workgroups, "Explicit workgroup counts X[,Y[,Z]]");
  cmd->add_option("--override", args->overrides,
                  "Set an override constant NAME=VALUE (repeatable); NAME may be its @id number")
      ->allow_extra_args(false);
  cmd->add_option("--entry", args->entry, "Entry point (default main)");
  cmd->add_option("--format", args->format, "Output format: raw (default), hex, u32")
      ->check(CLI::IsMember({"raw", "hex", "u32"}));
  cmd->add_option("--output", args->output, "Write the output to this file instead of standard output");
  cmd->add_option("--timeout-ms", args->timeout_ms, "Deadline of the call in milliseconds (default: --default-timeout; at most --max-timeout)");
  args->settings = std::make_unique<SettingFlags>(cmd);
  cmd->callback([args, &exit_status] { exit_status = run(*args); });
}

}  // namespace kem::cli
