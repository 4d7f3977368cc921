// The one table of KEM's settings: every field of ServiceOptions an operator may set, with its
// name, kind, meaning and (read from a default ServiceOptions, so never written twice) default.
// The kem CLI's flags (--NAME with dashes), the kem application's environment (NAME) and the
// settings table of docs/hyperbeam.md (`kem settings --format markdown`) all come from it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kem/result.h"
#include "kem/service.h"

namespace kem {

enum class SettingKind {
  flag,          // true / false
  count,         // a non-negative integer (bytes, items, threads)
  milliseconds,  // a duration in ms
  microseconds,  // a duration in µs
  text,
  text_list,     // repeatable on the command line
  choice,        // one of Setting::choices
};
std::string_view to_string(SettingKind kind);

// A value as a front end hands it over: text from a command line, or typed from Erlang terms.
// Every kind accepts its text form too ("true", "30000", "auto", ...).
using SettingValue = std::variant<bool, uint64_t, std::string, std::vector<std::string>>;

struct Setting {
  std::string_view name;     // snake_case: the application environment key
  SettingKind kind;
  std::string_view meaning;  // one line for the docs and --help
  std::string_view choices;  // choice: the allowed values, "|"-separated
  std::string_view cli_alias;  // an older command-line flag that also sets it ("" when none)
  bool automatic;            // may be "auto" (unset: KEM picks from the hardware)
  uint64_t max;              // counts and durations: the largest allowed value
  std::string_view group;    // "devices", "trust", "store" or "service"
};

std::span<const Setting> settings();
const Setting* find_setting(std::string_view name);

// Applies `value` to the field `name` names. invalid_argument for an unknown name or a value
// of the wrong kind or out of range, with a message naming the setting.
Status apply_setting(ServiceOptions& options, std::string_view name, const SettingValue& value);

// The setting's value in `options` as text: "30000", "true", "auto", "" for empty text, and a
// text list joined by ", ".
std::string setting_text(const ServiceOptions& options, const Setting& setting);
// Typed as SettingValue (a text list as such, "auto" as text), e.g. for Erlang terms.
SettingValue setting_value(const ServiceOptions& options, const Setting& setting);

// The table as docs/hyperbeam.md shows it: | key | default | meaning |.
std::string settings_markdown();

}  // namespace kem
