// Reading, writing and showing setting values: once per field type, for every row.
#include <charconv>

#include "service/setting_fields.h"

namespace kem {
namespace {

using service::SettingRow;
using service::setting_rows;

template <class... F>
struct Overload : F... {
  using F::operator()...;
};
template <class... F>
Overload(F...) -> Overload<F...>;

Error bad(const Setting& s, const std::string& why) {
  return make_error(ErrorCode::invalid_argument, "setting " + std::string(s.name) + ": " + why);
}

std::string describe(const SettingValue& v) {
  return std::visit(Overload{[](bool b) { return std::string(b ? "true" : "false"); },
                             [](uint64_t n) { return std::to_string(n); },
                             [](const std::string& t) { return "\"" + t + "\""; },
                             [](const std::vector<std::string>&) { return std::string("a list"); }},
                    v);
}

Result<bool> read_flag(const Setting& s, const SettingValue& v) {
  if (auto* b = std::get_if<bool>(&v)) return *b;
  if (auto* t = std::get_if<std::string>(&v)) {
    if (*t == "true" || *t == "1") return true;
    if (*t == "false" || *t == "0") return false;
  }
  return bad(s, "true or false expected, not " + describe(v));
}

// A count or duration; nullopt for "auto" where the setting allows it.
Result<std::optional<uint64_t>> read_number(const Setting& s, const SettingValue& v) {
  uint64_t n = 0;
  if (auto* u = std::get_if<uint64_t>(&v)) {
    n = *u;
  } else if (auto* t = std::get_if<std::string>(&v)) {
    if (s.automatic && *t == "auto") return std::optional<uint64_t>();
    auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), n);
    if (t->empty() || ec != std::errc() || end != t->data() + t->size())
      return bad(s, "a non-negative integer" + std::string(s.automatic ? " or auto" : "") + " expected, not " + describe(v));
  } else {
    return bad(s, "a non-negative integer expected, not " + describe(v));
  }
  if (n > s.max) return bad(s, std::to_string(n) + " is more than the most allowed, " + std::to_string(s.max));
  return std::optional<uint64_t>(n);
}

Result<std::string> read_text(const Setting& s, const SettingValue& v) {
  if (auto* t = std::get_if<std::string>(&v)) return *t;
  return bad(s, "text expected, not " + describe(v));
}

Result<std::vector<std::string>> read_texts(const Setting& s, const SettingValue& v) {
  if (auto* l = std::get_if<std::vector<std::string>>(&v)) return *l;
  if (auto* t = std::get_if<std::string>(&v)) return std::vector<std::string>{*t};
  return bad(s, "a list of texts expected, not " + describe(v));
}

Status apply(const SettingRow& row, ServiceOptions& o, const SettingValue& v) {
  const Setting& s = row.setting;
  return std::visit(
      Overload{
          [&](service::Access<bool> f) -> Status {
            auto b = read_flag(s, v);
            if (!b) return b.take_error();
            return f(o) = *b, Status{};
          },
          [&](auto f) -> Status
            requires std::is_same_v<decltype(f), service::Access<uint64_t>> ||
                     std::is_same_v<decltype(f), service::Access<uint32_t>>
          {
            auto n = read_number(s, v);
            if (!n) return n.take_error();
            return f(o) = static_cast<std::remove_reference_t<decltype(f(o))>>(**n), Status{};
          },
          [&](service::Access<std::chrono::milliseconds> f) -> Status {
            auto n = read_number(s, v);
            if (!n) return n.take_error();
            return f(o) = std::chrono::milliseconds(static_cast<int64_t>(**n)), Status{};
          },
          [&](service::Access<std::optional<std::chrono::microseconds>> f) -> Status {
            auto n = read_number(s, v);
            if (!n) return n.take_error();
            f(o) = *n ? std::optional(std::chrono::microseconds(static_cast<int64_t>(**n))) : std::nullopt;
            return {};
          },
          [&](service::Access<std::optional<size_t>> f) -> Status {
            auto n = read_number(s, v);
            if (!n) return n.take_error();
            return f(o) = *n, Status{};
          },
          [&](service::Access<std::string> f) -> Status {
            auto t = read_text(s, v);
            if (!t) return t.take_error();
            return f(o) = std::move(*t), Status{};
          },
          [&](service::Access<std::vector<std::string>> f) -> Status {
            auto l = read_texts(s, v);
            if (!l) return l.take_error();
            return f(o) = std::move(*l), Status{};
          },
          [&](service::Access<VerifyPolicy> f) -> Status {
            auto t = read_text(s, v);
            if (t && *t == "required") return f(o) = VerifyPolicy::required, Status{};
            if (t && *t == "off") return f(o) = VerifyPolicy::off, Status{};
            return bad(s, "required or off expected, not " + describe(v));
          },
      },
      row.field);
}

SettingValue value_of(const SettingRow& row, const ServiceOptions& options) {
  auto& o = const_cast<ServiceOptions&>(options);  // the accessors only read here
  return std::visit(
      Overload{
          [&](service::Access<bool> f) -> SettingValue { return f(o); },
          [&](service::Access<uint64_t> f) -> SettingValue { return f(o); },
          [&](service::Access<uint32_t> f) -> SettingValue { return uint64_t{f(o)}; },
          [&](service::Access<std::chrono::milliseconds> f) -> SettingValue {
            return static_cast<uint64_t>(f(o).count());
          },
          [&](service::Access<std::optional<std::chrono::microseconds>> f) -> SettingValue {
            if (!f(o)) return std::string("auto");
            return static_cast<uint64_t>(f(o)->count());
          },
          [&](service::Access<std::optional<size_t>> f) -> SettingValue {
            if (!f(o)) return std::string("auto");
            return uint64_t{*f(o)};
          },
          [&](service::Access<std::string> f) -> SettingValue { return f(o); },
          [&](service::Access<std::vector<std::string>> f) -> SettingValue { return f(o); },
          [&](service::Access<VerifyPolicy> f) -> SettingValue {
            return std::string(f(o) == VerifyPolicy::off ? "off" : "required");
          },
      },
      row.field);
}

const SettingRow* find_row(std::string_view name) {
  for (const SettingRow& row : setting_rows())
    if (row.setting.name == name) return &row;
  return nullptr;
}

// A default as docs/hyperbeam.md writes it: numbers plain, the rest as Erlang terms in code.
std::string markdown_value(const SettingValue& v, const Setting& s) {
  return std::visit(Overload{[](bool b) { return std::string(b ? "`true`" : "`false`"); },
                             [](uint64_t n) { return std::to_string(n); },
                             [&](const std::string& t) {
                               if (s.kind == SettingKind::text) return "`\"" + t + "\"`";
                               return "`" + t + "`";  // choice, auto
                             },
                             [](const std::vector<std::string>& l) {
                               std::string out = "`[";
                               for (size_t i = 0; i < l.size(); ++i) out += (i ? ", \"" : "\"") + l[i] + "\"";
                               return out + "]`";
                             }},
                    v);
}

}  // namespace

std::string_view to_string(SettingKind kind) {
  switch (kind) {
    case SettingKind::flag: return "flag";
    case SettingKind::count: return "count";
    case SettingKind::milliseconds: return "milliseconds";
    case SettingKind::microseconds: return "microseconds";
    case SettingKind::text: return "text";
    case SettingKind::text_list: return "text_list";
    case SettingKind::choice: return "choice";
  }
  return "unknown";
}

std::span<const Setting> settings() {
  static const std::vector<Setting> table = [] {
    std::vector<Setting> out;
    for (const SettingRow& row : setting_rows()) out.push_back(row.setting);
    return out;
  }();
  return table;
}

const Setting* find_setting(std::string_view name) {
  const SettingRow* row = find_row(name);
  return row ? &row->setting : nullptr;
}

Status apply_setting(ServiceOptions& options, std::string_view name, const SettingValue& value) {
  const SettingRow* row = find_row(name);
  if (!row) return make_error(ErrorCode::invalid_argument, "unknown setting " + std::string(name));
  try {
    return apply(*row, options, value);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal, "setting " + std::string(name) + ": " + e.what());
  }
}

SettingValue setting_value(const ServiceOptions& options, const Setting& setting) {
  const SettingRow* row = find_row(setting.name);
  return row ? value_of(*row, options) : SettingValue(std::string());
}

std::string setting_text(const ServiceOptions& options, const Setting& setting) {
  SettingValue v = setting_value(options, setting);
  if (auto* l = std::get_if<std::vector<std::string>>(&v)) {
    std::string out;
    for (size_t i = 0; i < l->size(); ++i) out += (i ? ", " : "") + (*l)[i];
    return out;
  }
  if (auto* t = std::get_if<std::string>(&v)) return *t;
  return describe(v);
}

std::string settings_markdown() {
  const ServiceOptions defaults;
  std::string out = "| key | default | meaning |\n| --- | --- | --- |\n";
  for (const Setting& s : settings())
    out += "| `" + std::string(s.name) + "` | " + markdown_value(setting_value(defaults, s), s) + " | " +
           std::string(s.meaning) + " |\n";
  return out;
}

}  // namespace kem
