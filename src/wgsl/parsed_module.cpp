#include "parsed_module.h"

#include <new>

#include "lexer.h"
#include "parser.h"

namespace kem::wgsl {

Result<ParsedModule> parse_kernel(std::string_view source) {
  try {
    Result<std::vector<Token>> tokens = tokenize(source);
    if (!tokens) return tokens.take_error();
    Result<Module> module = parse_tokens(*tokens);
    if (!module) return module.take_error();
    return ParsedModule(source, std::move(*tokens), std::move(*module));
  } catch (const std::bad_alloc&) {
    return make_error(ErrorCode::internal, "out of memory while parsing WGSL");
  }
}

}  // namespace kem::wgsl
