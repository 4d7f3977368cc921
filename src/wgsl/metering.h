// Loop metering (issue 7): a source transformation that gives every `loop`, `for` and `while`
// of a kernel an iteration budget, so that no kernel can keep the GPU busy forever.
//
// WHAT IS COUNTED. Per invocation, across all loops: every entry into a loop body (every
// iteration of any loop, in any function, nested or not) costs one unit of the invocation's
// budget. Once an invocation has used its whole budget, the next iteration it would start
// instead sets the `exceeded` flag and leaves the loop; from then on every loop it reaches is
// left at its next iteration, so the invocation runs to its end in bounded time. Loops in
// functions called from loops share the same count, so runaway nested loops are caught.
// Precisely: a budget of B allows B loop-body entries per invocation; the (B+1)-th sets the flag.
// The operator configures B (the loop_budget setting: ExecutorOptions::loop_budget); a request may only
// lower it (effective_loop_budget). B = 0 allows no loop iteration at all.
//
// HOW, CHEAPLY. Every compute entry point first copies the budget from the meter buffer into a
// private counter of iterations left (one storage load per invocation, not one per iteration);
// a metered loop starts each iteration with `if kem_meter_tick() { break; }`, which counts the
// private counter down and, at zero, raises the flag and answers true.
// Loops whose trip count is fixed before they start (src/wgsl/counted_loop.h: a `for` over a
// local integer from one constant to another by a constant step, that never leaves early, never
// changes its variable, contains no loop and calls no function that has one, at most 2^16
// iterations) are CHARGED instead: `kem_meter_charge(N);` just before the loop takes all N
// iterations at once and the body is left as written, so the driver optimises it exactly as the
// unmetered kernel. The count is the same (such a loop always enters its body exactly N times),
// so the budget stays exact: B passes, B+1 fails, whichever loops the iterations come from. A
// charge that does not fit raises the flag and empties the counter; the charged loop itself still
// runs its at most 2^16 iterations (it has no check inside and nothing nested that could
// multiply), every other loop is left at its next iteration.
// A `for` of that shape whose bounds are not constants but cannot change while it runs
// (src/wgsl/range_loop.h: lets, parameters, overrides, uniforms, read-only storage, pure
// builtins; no barrier inside) is GUARDED instead: `if kem_meter_range_u32(START, BOUND, STEP,
// UP, INCLUSIVE) { LOOP }` computes the exact trip count when the loop starts and charges it if
// it fits; if not, it raises the flag, empties the counter and skips the loop, so any count up to
// 2^32 - 1 costs one check and the budget stays exact. A loop that would wrap around forever
// (`i <= 0xFFFFFFFFu`) is refused the same way.
//
// UNIFORMITY. A loop that contains (directly or through the functions it calls) a compute
// builtin that WGSL requires in uniform control flow (workgroupBarrier, storageBarrier,
// textureBarrier, workgroupUniformLoad, subgroup and quad operations) is left by the whole
// workgroup together: each invocation that passed its budget raises a flag in workgroup memory,
// and the loop reads it with workgroupUniformLoad, whose result WGSL knows to be uniform. Other
// loops are left by each invocation on its own; WGSL loops reconverge at their exit, so this
// keeps valid code valid. But a value computed inside such a barrier-free loop is non-uniform to
// WGSL's analysis after metering, so a kernel that uses it to decide whether to reach a barrier
// fails to compile when metered. The executor then meters again with MeteringOptions::
// uniform_exits widened, so that such loops are left together too (Dawn's graphicsfuzz
// early-return-and-barrier, issue 19): first every widenable loop of the functions concerned,
// then those outside `if` and `switch`. If every rewrite fails, the call is a compile_error that
// names KEM's rewrite, never a hang.
//
// SCOPE. Metering targets compute kernels. The meter is a read_write storage buffer, which the
// vertex stage cannot use, and fragment-only builtins (derivatives) get no uniform exit.
//
// WHAT THE EXECUTOR MUST DO for a metered call:
//  1. Parse the user's ORIGINAL source once (parse_kernel, parsed_module.h), reflect and validate
//     that parse (reflect, reflect.h), not the transformed text; call meter(parsed, reflection,
//     options) and compile MeteredKernel::source instead of the original. Metering reads the same
//     parse, so the source is tokenized and parsed once (issue 13). The transformed source does
//     not depend on the budget, so one compiled pipeline (cache key: the transformed source)
//     serves every budget.
//  2. Create a buffer of kMeterBufferSize (8) bytes, usage Storage | CopyDst | CopySrc, and
//     write two little-endian u32 words into it before the dispatch:
//        word 0 (kMeterBudgetWord)   = effective_loop_budget(operator_budget, requested budget)
//        word 1 (kMeterExceededWord) = 0
//  3. Bind it as `var<storage, read_write>` at @group(MeteredKernel::group)
//     @binding(MeteredKernel::binding) (group 0, binding 15 by default), next to the user's
//     group-0 bindings, in the same bind group (layout entry: compute visibility, buffer type
//     storage, min binding size 8). Every compute entry point references it, so an automatic
//     layout includes it too. It counts against maxStorageBuffersPerShaderStage (8 by default):
//     a metered kernel has one storage buffer fewer for itself.
//  4. After the dispatch, copy the buffer back and read word 1. Non-zero means at least one
//     invocation ran past its budget: the call fails with ErrorCode::budget_exceeded and its
//     outputs, which are incomplete, must not be returned. Zero means the call stayed within
//     budget and its outputs are exactly those of the unmetered kernel.
//  5. Compile messages from Dawn carry offsets / line:column in the TRANSFORMED source; map them
//     with MeteredKernel::to_original before showing them. Lines are never changed (inserted
//     text contains no line break, except the declarations appended after the user's last line),
//     only columns on lines with a loop or an entry point shift.
//
// PRIVATE to libkem: its executor layer and the wgsl tests include it as "wgsl/metering.h" or
// "metering.h"; nothing outside the library needs the transformation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kem/reflection.h"
#include "kem/result.h"
#include "parsed_module.h"

namespace kem {

inline constexpr uint32_t kMeterGroup = 0;
inline constexpr uint32_t kMeterBinding = 15;  // reserved: user kernels may not declare it
inline constexpr uint64_t kMeterBufferSize = 8;
inline constexpr uint32_t kMeterBudgetWord = 0;    // in: iterations allowed per invocation
inline constexpr uint32_t kMeterExceededWord = 1;  // out: non-zero when a budget was exceeded

// The budget for one call: the operator's configured budget, lowered (never raised) by what the
// request asks for.
uint32_t effective_loop_budget(uint32_t operator_budget, std::optional<uint64_t> requested);

// A loop with barriers is left by the whole workgroup together through a 16-byte workgroup
// flag read with workgroupUniformLoad. When the kernel's own workgroup variables leave no room
// for it (a tiled matmul using the whole limit, issue 19), such loops instead count their
// iterations in a function-scope variable, uniform because it changes only in uniform control
// flow, and leave when that count passes this cap. The per-invocation budget still counts (and
// flags) every iteration, so the call's result is exactly as with the flag; only the time a
// runaway takes to stop grows, to at most this many iterations per function call.
inline constexpr uint32_t kUniformLoopCap = 1u << 24;

enum class UniformExits {
  barrier_loops,     // loops that contain a barrier (directly or through calls)
  // and every other loop, not charged before it starts, in a function that reaches a barrier or
  // is called by one that does: a value such a loop computes may decide whether a barrier is
  // reached
  barrier_functions,
  // the same, except loops inside an `if` or `switch` (whose condition may be non-uniform)
  barrier_functions_outside_branches,
};

struct MeteringOptions {
  uint32_t group = kMeterGroup;
  uint32_t binding = kMeterBinding;
  // The device's maxComputeWorkgroupStorageSize (WebGPU's default unless the executor says).
  uint64_t workgroup_storage_limit = 16384;
  // Which loops the workgroup leaves together (UNIFORMITY). More than the default costs a
  // workgroupUniformLoad (a barrier) per iteration, and a loop in non-uniform control flow cannot
  // have one; the executor asks for more only when the default rewrite of a kernel Tint accepts
  // breaks WGSL's uniformity rules (executor/metered_module.h).
  UniformExits uniform_exits = UniformExits::barrier_loops;
};

// A position in the user's original source.
struct OriginalLocation {
  uint32_t offset = 0;  // byte offset
  uint32_t line = 1;    // 1-based
  uint32_t column = 1;  // 1-based, in characters (code points), as reflection reports them
  bool in_inserted_code = false;  // the transformed position lies in text KEM inserted; the
                                  // location is then where that text was inserted
};

struct MeteredKernel {
  std::string source;  // the transformed WGSL to compile
  uint32_t group = kMeterGroup;
  uint32_t binding = kMeterBinding;
  uint32_t metered_loops = 0;  // loops given a budget check
  uint32_t uniform_loops = 0;  // of which leave the workgroup together (they contain barriers)
  uint32_t capped_loops = 0;   // of which by a function-scope count (no room for the flag)
  uint32_t charged_loops = 0;  // loops of fixed trip count, charged once before they start
  uint32_t range_loops = 0;    // loops of run-time trip count, charged (or skipped) as they start
  // Loops without barriers that left the workgroup together because of
  // MeteringOptions::uniform_exits (counted in uniform_loops too); with the default, the loops
  // UniformExits::barrier_functions would widen.
  uint32_t widened_loops = 0;

  // The original position of a byte offset in `source` (a Dawn message's `offset`).
  OriginalLocation to_original(uint64_t offset) const;
  // The original position of a line and byte position in `source` (a Dawn message's `lineNum`
  // and `linePos`, both 1-based, linePos in bytes).
  OriginalLocation to_original(uint64_t line, uint64_t line_pos) const;

  // Where text was inserted: the original byte offset and the number of bytes inserted there,
  // in increasing offset order. Used by to_original.
  struct Insertion {
    uint32_t offset = 0;
    uint32_t length = 0;
  };
  std::vector<Insertion> insertions;
  std::string original;  // the user's source, to turn offsets into lines and columns
};

// The parsed kernel with every loop metered. `reflection` must be reflect(parsed)'s: its bindings
// are checked against the meter's. Reads the parse only, never the text again. Errors:
// compile_error for a kernel that declares the reserved binding itself (position in the source).
Result<MeteredKernel> meter(const wgsl::ParsedModule& parsed, const Reflection& reflection,
                            const MeteringOptions& options = {});

// parse_kernel + reflect + meter, for callers that have only the text (tests, tools). Errors:
// compile_error for syntax and reflection errors (positions in `source`), and for a kernel that
// declares the reserved binding itself.
Result<MeteredKernel> meter_wgsl(std::string_view source, const MeteringOptions& options = {});

}  // namespace kem
