// Reflection of a module parsed once (parsed_module.h). include/kem/reflection.h declares the
// public Reflection and reflect_wgsl(source), which is parse_kernel + reflect; libkem's compile
// path calls the two itself so that metering can read the same parse.
#pragma once

#include "kem/reflection.h"
#include <span>
#include <vector>

#include "kem/result.h"
#include "overrides.h"
#include "parsed_module.h"

namespace kem {

// The module's resource bindings and compute entry points. Errors: compile_error
// "LINE:COLUMN: ..." for a declaration KEM cannot read (a missing @binding, a workgroup size that
// is not a positive constant...), positions in parsed.source().
// `overrides` (resolved by resolve_overrides) replace the defaults wherever a size reads them.
Result<Reflection> reflect(const wgsl::ParsedModule& parsed, std::span<const OverrideValue> overrides = {});

// Only the `override` declarations: what a request's values are checked against before reflect.
Result<std::vector<OverrideDeclaration>> reflect_overrides(const wgsl::ParsedModule& parsed);

}  // namespace kem
