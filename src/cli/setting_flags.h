// Every setting of kem/settings.h as a flag of a kem subcommand: --NAME with dashes (and the
// setting's older alias), its meaning as the help text, grouped as the table groups them.
// Only flags given on the command line change ServiceOptions; the rest keep their defaults.
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "kem/settings.h"

namespace kem::cli {

class SettingFlags {
 public:
  // Adds the flags of every setting whose group is listed (all groups when `groups` is empty).
  SettingFlags(CLI::App* command, std::vector<std::string_view> groups = {});

  // `base` with every given flag applied; invalid_argument names the flag's setting.
  Result<ServiceOptions> apply(ServiceOptions base = {}) const;

  bool given(std::string_view setting) const;

 private:
  struct Flag {
    const Setting* setting = nullptr;
    CLI::Option* option = nullptr;
    std::string text;
    std::vector<std::string> list;
    bool on = false;
  };
  std::deque<Flag> flags_;  // a deque: CLI11 holds references into each Flag
};

}  // namespace kem::cli
