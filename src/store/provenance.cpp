// Names and the one-line description of where a resolved kernel came from.
#include "kem/kernel_store.h"

namespace kem {

std::string_view to_string(Verification verification) {
  switch (verification) {
    case Verification::layer1_tx: return "layer1-tx";
    case Verification::ans104: return "ans104";
    case Verification::pinned: return "pinned";
    case Verification::unverified: return "unverified";
  }
  return "unverified";
}

std::string_view to_string(Origin origin) {
  switch (origin) {
    case Origin::gateway: return "gateway";
    case Origin::memory_cache: return "memory cache";
    case Origin::disk_cache: return "disk cache";
    case Origin::pin: return "pin";
    case Origin::file: return "file";
    case Origin::inline_source: return "inline source";
  }
  return "inline source";
}

std::string ResolvedKernel::describe() const {
  std::string text;
  switch (origin) {
    case Origin::file: return "file " + location + " (unverified)";
    case Origin::inline_source: return "inline source (unverified)";
    case Origin::pin: return id + " from pin " + location + " (pinned, trusted by configuration)";
    case Origin::gateway: text = id + " from " + gateway; break;
    case Origin::memory_cache: text = id + " from the memory cache (fetched from " + gateway + ")"; break;
    case Origin::disk_cache: text = id + " from the disk cache " + location + " (fetched from " + gateway + ")"; break;
  }
  if (verification == Verification::unverified) return text + ", unverified (verification off)";
  text += ", verified " + std::string(to_string(verification));
  if (!owner_address.empty()) text += ", owner " + owner_address;
  return text;
}

}  // namespace kem
