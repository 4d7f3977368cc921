// A metered kernel compiled on a device: KEM's loop-metering rewrite of the user's source and
// Dawn's shader module of it. One retry lives here (issue 19): the default rewrite lets each
// invocation leave a barrier-free loop on its own, which makes what the loop computed
// non-uniform to WGSL; a kernel that decides by such a value whether to reach a barrier is then
// rejected by Dawn although it is valid as written. The rewrite is made once more with
// MeteringOptions::uniform_exits widened, so that the workgroup leaves those loops together.
#pragma once

#include "kem/result.h"
#include "webgpu/device.h"
#include "wgsl/metering.h"
#include "wgsl/parsed_module.h"

namespace kem::executor {

struct MeteredModule {
  // The rewrite that was compiled (the widened one when the default failed and it compiled), or
  // why KEM's front end could not make one.
  Result<MeteredKernel> kernel;
  // Dawn's module of kernel->source; when Dawn rejects every rewrite, its message on the default
  // one, at positions in the user's source ("(in KEM's loop metering)" inside inserted text).
  // Unset when there is no rewrite.
  std::optional<Result<gpu::ShaderModuleHandle>> module;
};

MeteredModule compile_metered(gpu::Device& device, const wgsl::ParsedModule& parsed, const Reflection& reflection,
                              const MeteringOptions& options);

// Dawn's "LINE:COLUMN: message" lines, which point into the metered text, mapped back to the
// user's source.
Error to_original_positions(Error error, const MeteredKernel& metered);

}  // namespace kem::executor
