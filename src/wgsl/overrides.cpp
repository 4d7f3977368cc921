#include "overrides.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <cstring>

namespace kem {
namespace {

Error bad(const std::string& message) { return make_error(ErrorCode::invalid_argument, message); }

std::string number_text(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.17g", v);
  return buffer;
}

// Whether `v` is a value of the override's type. WebGPU converts the double itself and refuses
// what does not fit; checking here gives the request a message that names the override.
std::optional<std::string> unrepresentable(const OverrideDeclaration& d, double v) {
  if (!std::isfinite(v)) return "is not a finite number";
  const std::string& t = d.type;
  if (t == "bool") return std::nullopt;  // WebGPU: zero is false, anything else true
  if (t == "i32" || t == "u32") {
    if (v != std::trunc(v)) return "is not an integer, and " + t + " holds integers only";
    const double lo = t == "i32" ? -2147483648.0 : 0.0;
    const double hi = t == "i32" ? 2147483647.0 : 4294967295.0;
    if (v < lo || v > hi) return "is outside the range of " + t;
    return std::nullopt;
  }
  if (t == "f32" && std::fabs(v) > 3.4028234663852886e38) return "is outside the range of f32";
  if (t == "f16" && std::fabs(v) > 65504.0) return "is outside the range of f16";
  return std::nullopt;
}

const OverrideDeclaration* find(const std::vector<OverrideDeclaration>& declared, const std::string& key) {
  for (const OverrideDeclaration& d : declared)
    if (d.name == key || (d.id && std::to_string(*d.id) == key)) return &d;
  return nullptr;
}

}  // namespace

Result<std::vector<OverrideValue>> resolve_overrides(
    const std::vector<OverrideDeclaration>& declared,
    std::span<const std::pair<std::string, double>> given) {
  std::vector<OverrideValue> out;
  for (const auto& [key, value] : given) {
    const OverrideDeclaration* d = find(declared, key);
    if (!d) return bad("override '" + key + "' is not declared by the kernel (a key is an override's name or its @id number)");
    for (const OverrideValue& earlier : out)
      if (earlier.declaration == d)
        return bad("override '" + d->name + "' is given twice");
    if (auto why = unrepresentable(*d, value))
      return bad("override '" + d->name + "': the value " + number_text(value) + " " + *why);
    out.push_back({d, d->id ? std::to_string(*d->id) : d->name, value});
  }
  for (const OverrideDeclaration& d : declared) {
    if (d.has_default) continue;
    if (std::none_of(out.begin(), out.end(), [&](const OverrideValue& v) { return v.declaration == &d; }))
      return bad("override '" + d.name + "' has no default, so the request must give it a value");
  }
  std::sort(out.begin(), out.end(), [&](const OverrideValue& a, const OverrideValue& b) {
    return a.declaration < b.declaration;  // declarations live in one vector: source order
  });
  return out;
}

std::string overrides_cache_key(std::span<const std::pair<std::string, double>> given) {
  if (given.empty()) return {};
  std::vector<std::pair<std::string, double>> sorted(given.begin(), given.end());
  std::sort(sorted.begin(), sorted.end());
  std::string key;
  for (const auto& [name, value] : sorted) {
    char bits[sizeof(double)];
    std::memcpy(bits, &value, sizeof bits);
    key += name;
    key += '\0';  // names cannot hold NUL, so name and value bytes never run together ambiguously
    key.append(bits, sizeof bits);
  }
  return key;
}

}  // namespace kem
