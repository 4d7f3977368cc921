#include "cli/setting_flags.h"

#include <algorithm>

namespace kem::cli {
namespace {

std::string dashed(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

std::string group_title(std::string_view group) {
  if (group == "devices") return "Device settings";
  if (group == "trust") return "Trust settings";
  if (group == "store") return "Kernel store settings";
  return "Service settings";
}

}  // namespace

SettingFlags::SettingFlags(CLI::App* command, std::vector<std::string_view> groups) {
  const ServiceOptions defaults;
  for (const Setting& s : settings()) {
    if (!groups.empty() && std::find(groups.begin(), groups.end(), s.group) == groups.end()) continue;
    Flag& flag = flags_.emplace_back();
    flag.setting = &s;
    std::string names = "--" + dashed(s.name);
    if (!s.cli_alias.empty()) names += ",--" + std::string(s.cli_alias);
    std::string help(s.meaning);
    help += " (default: " + (setting_text(defaults, s).empty() ? std::string("none") : setting_text(defaults, s)) + ")";
    switch (s.kind) {
      case SettingKind::flag:
        flag.option = command->add_flag(names, flag.on, help);
        break;
      case SettingKind::text_list:
        flag.option = command->add_option(names, flag.list, help + "; repeatable, or comma-separated")->delimiter(',')->allow_extra_args(false);
        break;
      case SettingKind::choice: {
        std::vector<std::string> choices;
        for (size_t at = 0, bar; at <= s.choices.size(); at = bar + 1) {
          bar = std::min(s.choices.find('|', at), s.choices.size());
          choices.emplace_back(s.choices.substr(at, bar - at));
        }
        flag.option = command->add_option(names, flag.text, help)->check(CLI::IsMember(choices));
        break;
      }
      default:
        flag.option = command->add_option(names, flag.text, help);
        break;
    }
    flag.option->group(group_title(s.group));
  }
}

Result<ServiceOptions> SettingFlags::apply(ServiceOptions base) const {
  for (const Flag& flag : flags_) {
    if (flag.option->count() == 0) continue;
    SettingValue value;
    switch (flag.setting->kind) {
      case SettingKind::flag: value = flag.on; break;
      case SettingKind::text_list: value = flag.list; break;
      default: value = flag.text; break;
    }
    if (Status applied = apply_setting(base, flag.setting->name, value); !applied) {
      Error e = applied.take_error();
      e.message = "--" + dashed(flag.setting->name) + ": " + e.message;
      return e;
    }
  }
  return base;
}

bool SettingFlags::given(std::string_view setting) const {
  for (const Flag& flag : flags_)
    if (flag.setting->name == setting) return flag.option->count() > 0;
  return false;
}

}  // namespace kem::cli
