// Finds the loops of a module and whether each must be left by the whole workgroup together:
// the loops that contain, directly or through calls, a builtin WGSL allows only in uniform
// control flow. Used by loop metering.
#pragma once

#include <vector>

#include "ast.h"

namespace kem::wgsl {

struct LoopSite {
  const Stmt* loop = nullptr;  // a loop, for_ or while_ statement
  bool needs_uniform_exit = false;
};

// Every loop of every function, in source order.
std::vector<LoopSite> find_loops(const Module& module);

// True for the compute builtins that must be called in uniform control flow: barriers,
// workgroupUniformLoad, subgroup and quad operations.
bool requires_uniform_control_flow(std::string_view builtin);

}  // namespace kem::wgsl
