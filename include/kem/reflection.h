// What a WGSL kernel declares, read from its source: resource bindings and compute entry points.
// The executor builds its bind-group layout and its dispatch from this, so it never has to guess
// (the proof of concept assumed 256-thread workgroups).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kem/result.h"

namespace kem {

enum class AddressSpace { storage, uniform, handle };  // handle: textures and samplers
enum class AccessMode { read, write, read_write };

struct ResourceBinding {
  uint32_t group = 0;
  uint32_t binding = 0;
  std::string name;            // the variable's name in the source
  AddressSpace address_space = AddressSpace::storage;
  AccessMode access = AccessMode::read;  // uniform is always read; storage defaults to read
  std::string type;            // the declared store type as written, e.g. "array<u32>"
  uint32_t line = 0;           // 1-based position of the declaration in the source
  uint32_t column = 0;
};

struct EntryPoint {
  std::string name;
  std::array<uint32_t, 3> workgroup_size{1, 1, 1};  // evaluated; missing dimensions are 1
  // Takes @builtin(num_workgroups) as a parameter: such a kernel can linearise a 2-D grid, so the
  // executor may spread a large 1-D dispatch over rows (docs/kernel-contract.md).
  bool reads_num_workgroups = false;
  uint32_t line = 0;
  uint32_t column = 0;
};

// A module-scope `override` constant: a request may set it (KernelRequest::overrides), and must
// when it has no default, since the pipeline cannot be created without its value.
struct OverrideDeclaration {
  std::string name;
  // bool, i32, u32, f32 or f16: as declared, else inferred from a literal default (1u, 2.0,
  // true; an unsuffixed integer is i32, a float f32); empty when KEM cannot tell.
  std::string type;
  bool has_default = false;
  std::optional<uint32_t> id;  // @id(N): WebGPU then keys the constant by "N", not the name
  uint32_t line = 0;
  uint32_t column = 0;
};

struct Reflection {
  std::vector<ResourceBinding> bindings;   // in source order
  std::vector<OverrideDeclaration> overrides;  // in source order
  std::vector<EntryPoint> entry_points;    // @compute functions only, in source order

  const EntryPoint* find_entry(std::string_view name) const {
    for (const auto& e : entry_points)
      if (e.name == name) return &e;
    return nullptr;
  }
};

// Parses WGSL and returns its reflection. A syntax error is ErrorCode::compile_error with a
// message that starts "LINE:COLUMN: ".
Result<Reflection> reflect_wgsl(std::string_view source);

std::string_view to_string(AddressSpace space);
std::string_view to_string(AccessMode access);

}  // namespace kem
