// `kem settings`: the settings table (kem/settings.h) with each default, as docs/hyperbeam.md
// shows it (--format markdown) or as JSON for tools.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "kem/settings.h"

namespace kem::cli {
namespace {

nlohmann::json json_value(const SettingValue& v) {
  return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

}  // namespace

void add_settings_command(CLI::App& app, int& exit_status) {
  auto* cmd = app.add_subcommand("settings", "List every setting (a command-line flag and a kem application key) with its default");
  auto format = std::make_shared<std::string>("markdown");
  cmd->add_option("--format", *format, "markdown (default) or json")->check(CLI::IsMember({"markdown", "json"}));
  cmd->callback([format, &exit_status] {
    if (*format == "markdown") {
      std::cout << settings_markdown();
    } else {
      const ServiceOptions defaults;
      nlohmann::json out = nlohmann::json::array();
      for (const Setting& s : settings())
        out.push_back({{"name", s.name}, {"kind", to_string(s.kind)}, {"group", s.group},
                       {"default", json_value(setting_value(defaults, s))}, {"meaning", s.meaning}});
      std::cout << out.dump(2) << "\n";
    }
    exit_status = kExitOk;
  });
}

}  // namespace kem::cli
