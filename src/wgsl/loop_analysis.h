// Finds the loops of a module, whether each must be left by the whole workgroup together (the
// loops that contain, directly or through calls, a builtin WGSL allows only in uniform control
// flow), which run a trip count fixed before they start (counted_loop.h) or once they start
// (range_loop.h). Used by loop metering.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "ast.h"
#include "range_loop.h"

namespace kem::wgsl {

struct LoopSite {
  const Stmt* loop = nullptr;  // a loop, for_ or while_ statement
  bool needs_uniform_exit = false;
  // The loop's function reaches such a builtin (itself or through what it calls), or is called
  // by a function that does: a value the loop computes may decide whether a barrier is reached
  // (MeteringOptions::uniform_exit_in_barrier_functions).
  bool in_uniform_function = false;
  // The loop lies inside an `if` or `switch` of its function, whose condition may not be uniform.
  bool under_branch = false;
  // Set when the loop always runs exactly this many iterations (charged_trip_count): metering
  // charges them once before the loop and leaves its body alone.
  std::optional<uint32_t> charged_trips;
  // Else set when the trip count is fixed once the loop starts (range_loop): metering charges it
  // then, or skips the loop when it does not fit, and leaves its body alone.
  std::optional<RangeLoop> range;
};

// Every loop of every function, in source order.
std::vector<LoopSite> find_loops(const Module& module);

// True for the compute builtins that must be called in uniform control flow: barriers,
// workgroupUniformLoad, subgroup and quad operations.
bool requires_uniform_control_flow(std::string_view builtin);

}  // namespace kem::wgsl
