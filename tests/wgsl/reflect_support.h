// Reflection helpers shared by the wgsl suites: the reflection of a kernel that must reflect,
// or the message of one that must fail (as a compile_error).
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "kem/reflection.h"

namespace kem::test {

inline Reflection reflect_ok(std::string_view src) {
  Result<Reflection> r = reflect_wgsl(src);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : Reflection{};
}

inline std::string reflect_error(std::string_view src) {
  Result<Reflection> r = reflect_wgsl(src);
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.error().code, ErrorCode::compile_error);
  return r.error().message;
}

}  // namespace kem::test
