#include "nif_kernel_ref.h"

#include "nif_terms.h"

namespace kem_nif {

std::optional<kem::KernelRef> get_kernel_ref(ErlNifEnv* env, ERL_NIF_TERM kind, ERL_NIF_TERM value) {
  auto bytes = get_bytes(env, value);
  if (!bytes) return std::nullopt;
  std::string text(as_chars(*bytes));
  if (enif_is_identical(kind, atoms.id)) return kem::KernelRef::id(std::move(text));
  if (enif_is_identical(kind, atoms.source)) return kem::KernelRef::inline_source(std::move(text));
  if (enif_is_identical(kind, atoms.file)) return kem::KernelRef::file(std::move(text));
  return std::nullopt;
}

}  // namespace kem_nif
