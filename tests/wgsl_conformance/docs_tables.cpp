#include "docs_tables.h"

#include <fstream>

namespace kem::conformance {
namespace {

// The text between the first pair of backticks of a table row, or "".
std::string first_code(const std::string& line) {
  size_t a = line.find('`');
  if (line.rfind("| `", 0) != 0 || a == std::string::npos) return "";
  size_t b = line.find('`', a + 1);
  return b == std::string::npos ? "" : line.substr(a + 1, b - a - 1);
}

}  // namespace

Result<DocsTables> read_docs_tables(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(ErrorCode::invalid_argument, "cannot read " + path);
  DocsTables t;
  std::string line, section;
  while (std::getline(in, line)) {
    if (line.rfind("## ", 0) == 0 || line.rfind("### ", 0) == 0) section = line.substr(line.find(' ') + 1);
    std::string code = first_code(line);
    if (code.empty()) continue;
    if (section == "Contract refusals") t.contract_patterns.push_back(code);
    else if (section == "Known disagreements") t.known.insert(code);
  }
  if (t.contract_patterns.empty())
    return make_error(ErrorCode::invalid_argument, path + " has no \"Contract refusals\" table");
  return t;
}

bool contract_reason(const DocsTables& tables, const std::string& message) {
  for (const auto& p : tables.contract_patterns)
    if (message.find(p) != std::string::npos) return true;
  return false;
}

std::map<std::string, std::string> read_manifest(const std::string& path) {
  std::map<std::string, std::string> m;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    std::string where = line.substr(tab + 1);
    where = where.substr(0, where.find('\t'));
    if (size_t colon = where.find(':'); colon != std::string::npos) where = where.substr(colon + 1);
    m[line.substr(0, tab)] = where;
  }
  return m;
}

}  // namespace kem::conformance
