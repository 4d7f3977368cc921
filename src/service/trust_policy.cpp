#include "kem/trust_policy.h"

#include <algorithm>

namespace kem {
namespace {

bool listed(const std::vector<std::string>& list, const std::string& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

bool TrustPolicy::unmetered(const ResolvedKernel& kernel) const {
  if (kernel.id.empty()) return false;
  return listed(unmetered_ids, kernel.id) ||
         (!kernel.owner_address.empty() && listed(unmetered_owners, kernel.owner_address));
}

Status TrustPolicy::validate() const {
  for (const auto& [values, name] : {std::pair{&unmetered_ids, "unmetered_ids"},
                                     std::pair{&unmetered_owners, "unmetered_owners"}})
    for (const std::string& v : *values)
      if (auto valid = validate_arweave_id(v); !valid)
        return make_error(ErrorCode::invalid_argument, std::string(name) + " '" + v + "': " + valid.error().message);
  return {};
}

}  // namespace kem
