// Where each setting lives in ServiceOptions: one accessor per table row (settings.cpp), of the
// field's own type, so that reading, writing and showing a value is written once per type
// (setting_values.cpp) instead of once per setting.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "kem/settings.h"

namespace kem::service {

template <class T>
using Access = T& (*)(ServiceOptions&);

static_assert(std::is_same_v<size_t, uint64_t>, "counts of type size_t share the uint64_t accessor");

using Field = std::variant<Access<bool>, Access<uint64_t>, Access<uint32_t>, Access<std::chrono::milliseconds>,
                           Access<std::optional<std::chrono::microseconds>>, Access<std::optional<size_t>>,
                           Access<std::string>, Access<std::vector<std::string>>, Access<VerifyPolicy>>;

struct SettingRow {
  Setting setting;
  Field field;
};

std::span<const SettingRow> setting_rows();

}  // namespace kem::service
