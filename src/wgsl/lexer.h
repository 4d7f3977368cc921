// WGSL lexer: source text to tokens, including the spec's template-list discovery, which decides
// whether a '<' after an identifier opens a template list (`array<u32, 4>`) or is less-than.
#pragma once

#include <string_view>
#include <vector>

#include "kem/result.h"
#include "token.h"

namespace kem::wgsl {

// Tokenizes `source` (which must outlive the tokens). The last token is always TokenKind::end.
// Errors (a stray character, a bad number, an unterminated comment) are compile_error with a
// message "LINE:COLUMN: ...".
Result<std::vector<Token>> tokenize(std::string_view source);

// Formats "LINE:COLUMN: message", the prefix every WGSL diagnostic of KEM carries.
std::string format_diagnostic(SourcePos pos, std::string_view message);
// A compile_error with that message: what every pass of the front end reports.
Error compile_error_at(SourcePos pos, std::string_view message);

}  // namespace kem::wgsl
