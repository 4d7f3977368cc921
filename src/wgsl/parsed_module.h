// The user's WGSL, tokenized and parsed once. Reflection (reflect.h) and loop metering
// (metering.h) both read this value instead of the text, so a metered compile reads the source
// exactly once (issue 13: it used to tokenize it four times and parse it three). Only
// parse_kernel makes one, so whoever holds a ParsedModule holds the parse of its source().
#pragma once

#include <string_view>
#include <vector>

#include "ast.h"
#include "kem/result.h"
#include "token.h"

namespace kem::wgsl {

class ParsedModule {
 public:
  // The text that was parsed. Not owned: the caller keeps it alive as long as this value.
  std::string_view source() const { return source_; }
  // Its tokens (views into source()), kept for the passes that look at names, not syntax.
  const std::vector<Token>& tokens() const { return tokens_; }
  const Module& module() const { return module_; }

 private:
  friend Result<ParsedModule> parse_kernel(std::string_view source);
  ParsedModule(std::string_view source, std::vector<Token> tokens, Module module)
      : source_(source), tokens_(std::move(tokens)), module_(std::move(module)) {}

  std::string_view source_;
  std::vector<Token> tokens_;
  Module module_;
};

// Tokenizes and parses `source` (which must outlive the result). Errors as parse_wgsl's: a syntax
// error is compile_error "LINE:COLUMN: ...", allocation failure is internal. Never throws.
Result<ParsedModule> parse_kernel(std::string_view source);

}  // namespace kem::wgsl
