// Recursive-descent parser for the WGSL grammar of the W3C WGSL specification (global directives
// and declarations, attributes, every statement and the full expression grammar with its
// precedence rules), producing the syntax tree of ast.h. It checks syntax only; types, names and
// uniformity are left to the WGSL compiler (Dawn) that later compiles the same text.
#pragma once

#include <span>
#include <string_view>

#include "ast.h"
#include "kem/result.h"

namespace kem::wgsl {

// Deeper nesting than this (parentheses, blocks, unary operators, template lists) is reported as
// a compile_error instead of risking the stack; it is far beyond what real kernels use.
inline constexpr int kMaxNesting = 256;
// Template lists (array<array<u32, 2>, 2>) nest up to Tint's limit; each counts one level of
// kMaxNesting too.
inline constexpr int kMaxTemplateDepth = 127;
// Expression trees taller than this (e.g. a sum of thousands of terms) are refused for the same
// reason: every pass over the tree recurses.
inline constexpr uint32_t kMaxExpressionHeight = 1024;

// Parses a whole module. A syntax error is ErrorCode::compile_error, "LINE:COLUMN: what was
// expected". Never throws (allocation failure is reported as ErrorCode::internal).
Result<Module> parse_wgsl(std::string_view source);

// Parses tokens that tokenize() produced (ending in TokenKind::end), which must outlive the call.
// For callers that keep the tokens (parsed_module.h); parse_wgsl is tokenize + parse_tokens.
Result<Module> parse_tokens(std::span<const Token> tokens);

// True for WGSL's keywords, which cannot name anything.
bool is_keyword(std::string_view word);

}  // namespace kem::wgsl
