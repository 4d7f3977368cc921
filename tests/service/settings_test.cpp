// The settings table: every row reads and writes its own field, values are checked, and the
// table in docs/hyperbeam.md is the one the code has.
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "kem/settings.h"

namespace kem {
namespace {

TEST(Settings, NamesAreUniqueAndEveryDefaultRoundTripsThroughItsText) {
  std::set<std::string_view> names;
  const ServiceOptions defaults;
  for (const Setting& s : settings()) {
    EXPECT_TRUE(names.insert(s.name).second) << s.name;
    ServiceOptions options;
    SettingValue text = setting_text(defaults, s);
    if (s.kind == SettingKind::text_list) text = std::get<std::vector<std::string>>(setting_value(defaults, s));
    ASSERT_TRUE(apply_setting(options, s.name, text).ok()) << s.name;
    EXPECT_EQ(setting_text(options, s), setting_text(defaults, s)) << s.name;
  }
  EXPECT_EQ(names.size(), settings().size());
}

// Each row writes the field it names: a value different from the default reads back, and no
// other row sees a change.
TEST(Settings, EachRowWritesItsOwnField) {
  const ServiceOptions defaults;
  for (const Setting& s : settings()) {
    ServiceOptions options;
    SettingValue other;
    switch (s.kind) {
      case SettingKind::flag: other = !std::get<bool>(setting_value(defaults, s)); break;
      case SettingKind::text_list: other = std::vector<std::string>{"x", "y"}; break;
      case SettingKind::text: other = std::string("/elsewhere"); break;
      case SettingKind::choice: other = std::string(setting_text(defaults, s) == "off" ? "required" : "off"); break;
      default: other = uint64_t{7}; break;
    }
    ASSERT_TRUE(apply_setting(options, s.name, other).ok()) << s.name;
    EXPECT_NE(setting_text(options, s), setting_text(defaults, s)) << s.name;
    for (const Setting& t : settings()) {
      if (t.name == s.name) continue;
      EXPECT_EQ(setting_text(options, t), setting_text(defaults, t)) << s.name << " changed " << t.name;
    }
  }
}

TEST(Settings, WrongKindsUnknownNamesAndOutOfRangeValuesAreRefused) {
  ServiceOptions o;
  auto unknown = apply_setting(o, "no_such_setting", uint64_t{1});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().message, "unknown setting no_such_setting");
  auto too_big = apply_setting(o, "loop_budget", uint64_t{1} << 32);
  ASSERT_FALSE(too_big.ok());
  EXPECT_EQ(too_big.error().message, "setting loop_budget: 4294967296 is more than the most allowed, 4294967295");
  EXPECT_FALSE(apply_setting(o, "metering", std::string("maybe")).ok());
  EXPECT_FALSE(apply_setting(o, "verify", std::string("sometimes")).ok());
  EXPECT_FALSE(apply_setting(o, "default_timeout", std::string("30s")).ok());
  EXPECT_FALSE(apply_setting(o, "pin_dir", uint64_t{3}).ok());
  EXPECT_FALSE(apply_setting(o, "default_timeout", std::string("auto")).ok());  // not an automatic setting
  ASSERT_TRUE(apply_setting(o, "spin_wait", std::string("250")).ok());
  EXPECT_EQ(o.devices.executor.spin_wait, std::chrono::microseconds(250));
  ASSERT_TRUE(apply_setting(o, "spin_wait", std::string("auto")).ok());
  EXPECT_FALSE(o.devices.executor.spin_wait.has_value());
  ASSERT_TRUE(apply_setting(o, "gateways", std::string("http://127.0.0.1:1")).ok());
  EXPECT_EQ(o.store.gateways, std::vector<std::string>{"http://127.0.0.1:1"});
  ASSERT_TRUE(apply_setting(o, "verify", std::string("off")).ok());
  EXPECT_EQ(o.store.verify, VerifyPolicy::off);
  ASSERT_TRUE(apply_setting(o, "default_timeout", uint64_t{1234}).ok());
  EXPECT_EQ(o.devices.executor.default_timeout, std::chrono::milliseconds(1234));
}

// docs/hyperbeam.md shows the table between two markers; `kem settings` prints the same text.
TEST(Settings, TheDocsTableIsTheCodesTable) {
  std::ifstream file(std::string(KEM_SOURCE_DIR) + "/docs/hyperbeam.md");
  ASSERT_TRUE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  const std::string docs = text.str();
  const std::string begin = "<!-- settings table: kem settings --format markdown -->\n";
  const std::string end = "<!-- end of settings table -->";
  const size_t from = docs.find(begin);
  const size_t to = docs.find(end);
  ASSERT_NE(from, std::string::npos);
  ASSERT_NE(to, std::string::npos);
  EXPECT_EQ(docs.substr(from + begin.size(), to - from - begin.size()), settings_markdown())
      << "regenerate it: scripts/docs-settings.sh";
}

}  // namespace
}  // namespace kem
