// A kernel compiled for one device: its reflection, bind-group layout and pipeline.
#pragma once

#include <array>
#include <chrono>
#include <optional>
#include <span>
#include <utility>
#include <vector>
#include <string>
#include <string_view>

#include "executor/call_shape.h"
#include "kem/reflection.h"
#include "kem/result.h"
#include "webgpu/device.h"

namespace kem::executor {

// The kernel contract's bindings (docs/kernel-contract.md).
constexpr uint32_t kInputBinding = 0;
constexpr uint32_t kOutputBinding = 1;
constexpr uint32_t kParamsBinding = 2;

struct CompiledKernel {
  Reflection reflection;     // of the user's original source
  uint64_t serial = 0;       // unique within its session (keys the bind-group cache)
  bool metered = false;      // compiled from loop metering's transformation (binding kMeterBinding)
  KernelShape shape;
  bool declares_input = false, declares_output = false;
  gpu::BindGroupLayoutHandle layout;
  gpu::ComputePipelineHandle pipeline;
  bool compiled_unlooked = false;  // compiled ahead of its call's lookup (call_planner.cpp counts it a miss)
};

// A kernel whose pipeline the driver is still compiling (off the thread that drives the
// device: Dawn's worker threads): everything else is done.
struct KernelBuild {
  CompiledKernel kernel;  // without its pipeline yet
  gpu::PendingPipeline pipeline;
};

// compile_kernel in two steps, so that the thread driving the device serves other calls while
// the driver compiles (seconds for a large kernel). start_kernel does all the rest (KEM's
// passes, Tint, the contract, the layout) and reports their errors at once; finish_kernel looks
// (or waits up to `timeout`): nullopt while the driver is still at it, else the outcome (the
// build's kernel then has its pipeline).
Result<KernelBuild> start_kernel(gpu::Device& device, std::string_view source, std::string_view entry, bool metered,
                                 std::span<const std::pair<std::string, double>> overrides = {});
std::optional<Status> finish_kernel(gpu::Device& device, KernelBuild& build, std::chrono::nanoseconds timeout);

// Reflects, checks the contract, and compiles on `device` (with loop metering when `metered`).
// Errors are compile_error with line:column of the user's own source.
// `overrides` are the request's values of `override` constants (KernelRequest::overrides): checked
// against the declarations (invalid_argument) and passed to the pipeline.
Result<CompiledKernel> compile_kernel(gpu::Device& device, std::string_view source, std::string_view entry,
                                      bool metered,
                                      std::span<const std::pair<std::string, double>> overrides = {});

}  // namespace kem::executor
