// The lists the conformance run reads from docs/wgsl.md, so that the docs are the only copy:
// "Contract refusals" (KEM front-end messages that refuse a kernel Tint accepts on purpose,
// docs/kernel-contract.md) and "Known disagreements" (open ones, each with its reason).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "kem/result.h"

namespace kem::conformance {

struct DocsTables {
  std::vector<std::string> contract_patterns;  // substrings of KEM's error message
  std::set<std::string> known;                 // dawn__NNNNN.wgsl
};

// Table rows look like "| `PATTERN` | why |" under "## Contract refusals" and
// "| `dawn__NNNNN.wgsl` | path | why |" under "## Known disagreements".
Result<DocsTables> read_docs_tables(const std::string& path);
bool contract_reason(const DocsTables& tables, const std::string& message);
// manifest.tsv: "dawn__NNNNN<TAB>google/dawn@...:test/tint/..."
std::map<std::string, std::string> read_manifest(const std::string& path);

}  // namespace kem::conformance
