#include "cli/diagnostics.h"

#include <charconv>
#include <iostream>

#include "cli/cli_io.h"

namespace kem::cli {
namespace {

// A positive decimal number at the start of text, and what follows it.
std::optional<int> leading_number(std::string_view& text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end == text.data() || value <= 0) return std::nullopt;
  text.remove_prefix(static_cast<size_t>(end - text.data()));
  return value;
}

// Line LINE (1-based) of source, without its line break; empty past the end.
std::string_view source_line(std::string_view source, int line) {
  size_t start = 0;
  for (int i = 1; i < line; ++i) {
    size_t next = source.find('\n', start);
    if (next == std::string_view::npos) return {};
    start = next + 1;
  }
  size_t end = source.find('\n', start);
  std::string_view text = source.substr(start, end == std::string_view::npos ? source.size() - start : end - start);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

}  // namespace

std::vector<Diagnostic> parse_diagnostics(std::string_view message) {
  std::vector<Diagnostic> out;
  while (!message.empty()) {
    size_t end = message.find('\n');
    std::string_view text = message.substr(0, end);
    message.remove_prefix(end == std::string_view::npos ? message.size() : end + 1);
    if (text.empty()) continue;
    Diagnostic d;
    std::string_view rest = text;
    auto line = leading_number(rest);
    if (line && rest.size() > 1 && rest[0] == ':') {
      rest.remove_prefix(1);
      auto column = leading_number(rest);
      if (column && rest.size() >= 1 && rest[0] == ':') {
        rest.remove_prefix(1);
        if (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
        d.line = line;
        d.column = column;
        text = rest;
      }
    }
    d.message = std::string(text);
    out.push_back(std::move(d));
  }
  return out;
}

std::string format_diagnostics(const std::string& file, std::string_view source,
                               const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const auto& d : diagnostics) {
    if (!d.line) {
      out += file + ": error: " + d.message + "\n";
      continue;
    }
    out += file + ":" + std::to_string(*d.line) + ":" + std::to_string(*d.column) + ": error: " +
           d.message + "\n";
    std::string_view text = source_line(source, *d.line);
    if (text.empty()) continue;
    out += "    " + std::string(text) + "\n    ";
    // The caret under the column: tabs kept as tabs so that it lines up however they render.
    for (size_t i = 0; i + 1 < static_cast<size_t>(*d.column) && i < text.size(); ++i)
      out += text[i] == '\t' ? '\t' : ' ';
    out += "^\n";
  }
  return out;
}

nlohmann::json diagnostics_json(const std::string& file, const std::vector<Diagnostic>& diagnostics) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& d : diagnostics) {
    nlohmann::json item{{"message", d.message}};
    item["line"] = d.line ? nlohmann::json(*d.line) : nlohmann::json(nullptr);
    item["column"] = d.column ? nlohmann::json(*d.column) : nlohmann::json(nullptr);
    list.push_back(std::move(item));
  }
  return {{"error", "compile_error"}, {"file", file}, {"diagnostics", std::move(list)}};
}

void print_kernel_error(const std::string& file, std::string_view source, const Error& error) {
  if (error.code != ErrorCode::compile_error) return print_error(error);
  std::cerr << format_diagnostics(file, source, parse_diagnostics(error.message));
}

}  // namespace kem::cli
