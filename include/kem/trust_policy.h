// The operator's trust in kernels: which ones run without loop metering. See
// docs/kernel-contract.md ("Unmetered kernels").
#pragma once

#include <string>
#include <vector>

#include "kem/kernel_store.h"
#include "kem/result.h"

namespace kem {

struct TrustPolicy {
  std::vector<std::string> unmetered_ids;     // kernel IDs trusted to run unmetered
  std::vector<std::string> unmetered_owners;  // publishers (owner addresses) trusted likewise

  // Only a kernel resolved by ID can be trusted: by its ID, or by its owner, which the store
  // sets only once it has verified the kernel's signature. A file, inline source, pinned or
  // unverified kernel is trusted by ID at most, never by owner.
  bool unmetered(const ResolvedKernel& kernel) const;

  // Every entry must have the form of an ID / address (43 base64url characters);
  // invalid_argument names the first that does not, as `option` (e.g. "unmetered_ids").
  Status validate() const;
};

}  // namespace kem
