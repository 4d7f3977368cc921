#include "cli/dash_ids.h"

#include "kem/kernel_store.h"

namespace kem::cli {
namespace {

bool is_dash_id(const std::string& argument) { return argument.size() > 1 && argument[0] == '-' && is_arweave_id(argument); }

// The subcommand named on the line, if any (the first argument naming one).
const CLI::App* find_subcommand(const CLI::App& app, int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      if (sub->check_name(argv[i])) return sub;
    }
  }
  return nullptr;
}

// True when `argument` is a long or short option of `command` (or of the app) that takes a value.
bool takes_value(const CLI::App& app, const CLI::App* command, const std::string& argument) {
  if (argument.size() < 2 || argument[0] != '-' || argument.find('=') != std::string::npos) return false;
  for (const CLI::App* scope : {command, &app}) {
    if (scope == nullptr) continue;
    const CLI::Option* option = scope->get_option_no_throw(argument);
    if (option != nullptr && !option->get_positional()) return option->get_items_expected_min() > 0;
  }
  return false;
}

}  // namespace

std::vector<std::string> protect_dash_ids(const CLI::App& app, int argc, const char* const* argv) {
  const CLI::App* command = find_subcommand(app, argc, argv);
  std::vector<std::string> kept, positional;
  int i = 0;
  for (; i < argc; ++i) {
    const std::string argument = argv[i];
    if (i > 0 && argument == "--") break;
    if (i > 0 && is_dash_id(argument)) {
      if (!kept.empty() && takes_value(app, command, kept.back())) {
        kept.back() += "=" + argument;
      } else {
        positional.push_back(argument);
      }
      continue;
    }
    kept.push_back(argument);
  }
  const bool has_separator = i < argc;
  if (has_separator) ++i;  // past the caller's own "--"
  if (!positional.empty() || has_separator) kept.push_back("--");
  kept.insert(kept.end(), positional.begin(), positional.end());
  for (; i < argc; ++i) kept.push_back(argv[i]);
  return kept;
}

}  // namespace kem::cli
