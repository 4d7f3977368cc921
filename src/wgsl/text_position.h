// Line and column arithmetic on WGSL text, with WGSL's line breaks (LF, VT, FF, CR, CR LF,
// NEL, LS, PS). Shared by the lexer and the metering source map so both count alike.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "token.h"

namespace kem::wgsl {

// Length in bytes of the line break starting at `at`, 0 if there is none.
size_t line_break_length(std::string_view text, size_t at);

// Line and column (in code points) of byte offset `offset`; offsets past the end give the
// position just after the last character.
SourcePos position_of(std::string_view text, size_t offset);

// Byte offset where 1-based line `line` starts, if the text has that many lines.
std::optional<size_t> line_start(std::string_view text, size_t line);

}  // namespace kem::wgsl
