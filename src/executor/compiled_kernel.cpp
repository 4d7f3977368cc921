#include "executor/compiled_kernel.h"

#include <optional>
#include <string>

#include "executor/metered_module.h"
#include "wgsl/metering.h"
#include "wgsl/parsed_module.h"
#include "wgsl/reflect.h"

namespace kem::executor {
namespace {

Error contract_error(const ResourceBinding& b, const std::string& why) {
  return make_error(ErrorCode::compile_error,
                    std::to_string(b.line) + ":" + std::to_string(b.column) + ": '" + b.name + "' (@group(" +
                        std::to_string(b.group) + ") @binding(" + std::to_string(b.binding) + ")) " + why +
                        " (see docs/kernel-contract.md)");
}

// What KEM's own passes make of the user's source: one tokenization and one parse, read by
// reflection and, for a metered compile, by loop metering (issue 13). Errors are kept as values:
// Dawn's messages on the same source are shown first.
struct FrontEnd {
  Result<Reflection> reflection;
  std::optional<Result<wgsl::ParsedModule>> parsed;  // kept for a metered compile, which reads it
  std::vector<std::pair<std::string, double>> constants;  // the checked overrides, keyed for Dawn
};

FrontEnd read_source(std::string_view source, bool metered,
                     std::span<const std::pair<std::string, double>> overrides) {
  auto failed = [metered](const Error& e) {
    return FrontEnd{e, metered ? std::optional<Result<wgsl::ParsedModule>>(e) : std::nullopt, {}};
  };
  Result<wgsl::ParsedModule> parsed = wgsl::parse_kernel(source);
  if (!parsed) return failed(parsed.error());
  // The request's values are checked first: reflection reads them where a size uses an override.
  Result<std::vector<OverrideDeclaration>> declared = reflect_overrides(*parsed);
  if (!declared) return failed(declared.error());
  Result<std::vector<OverrideValue>> values = resolve_overrides(*declared, overrides);
  if (!values) return failed(values.error());
  std::vector<std::pair<std::string, double>> constants;
  for (const OverrideValue& v : *values) constants.emplace_back(v.key, v.value);
  Result<Reflection> reflection = reflect(*parsed, *values);
  if (!metered) return {std::move(reflection), std::nullopt, std::move(constants)};
  if (!reflection) return failed(reflection.error());
  return {std::move(reflection), std::move(parsed), std::move(constants)};
}

// Compiles the kernel on the device: loop metering's rewrite for a metered call, else the source.
Result<gpu::ShaderModuleHandle> compile_module(gpu::Device& device, std::string_view source, FrontEnd& front) {
  if (!front.parsed) return device.compile(source);
  // Dawn's messages are the authority on the user's own mistakes: prefer them.
  if (!*front.parsed || !front.reflection) {
    auto plain = device.compile(source);
    if (!plain) return plain.take_error();
    return !*front.parsed ? front.parsed->error() : front.reflection.error();
  }
  MeteringOptions options;
  options.workgroup_storage_limit = device.limits().maxComputeWorkgroupStorageSize;  // the flag must fit
  MeteredModule metered = compile_metered(device, **front.parsed, *front.reflection, options);
  if (!metered.kernel) {
    auto plain = device.compile(source);
    if (!plain) return plain.take_error();
    return metered.kernel.error();
  }
  if (*metered.module) return std::move(*metered.module);
  // Whose fault is it? Compiling the kernel as written tells: if Dawn rejects that too, its
  // message, at the user's own positions, is the answer. If not, KEM's rewrite broke a valid
  // kernel (issue 19), and the message must say so instead of blaming the user's line.
  auto plain = device.compile(source);
  if (!plain) return plain.take_error();
  Error broken = metered.module->take_error();
  broken.code = ErrorCode::compile_error;  // the call cannot run metered; the text says why
  broken.message = "KEM's loop metering rewrite made this kernel invalid, although the kernel as "
                   "written compiles: the fault is KEM's, not the kernel's (please report it; "
                   "an unmetered call, where the operator allows one, avoids it). Dawn says of "
                   "the rewritten text: " + broken.message;
  return broken;
}

}  // namespace

Result<KernelBuild> start_kernel(gpu::Device& device, std::string_view source, std::string_view entry, bool metered,
                                 std::span<const std::pair<std::string, double>> overrides) {
  // KEM's passes run first (Dawn compiles their metered text), but Dawn's messages are the
  // authority on syntax and types, so its errors are shown before theirs.
  FrontEnd front = read_source(source, metered, overrides);
  auto module = compile_module(device, source, front);
  if (!module) return module.take_error();
  Result<Reflection>& reflection = front.reflection;
  if (!reflection) return reflection.take_error();

  CompiledKernel kernel;
  kernel.metered = metered;
  kernel.reflection = std::move(reflection).value();
  const EntryPoint* ep = kernel.reflection.find_entry(entry);
  if (!ep) {
    std::string names;
    for (const auto& e : kernel.reflection.entry_points) names += (names.empty() ? "" : ", ") + e.name;
    return make_error(ErrorCode::compile_error,
                      "no @compute entry point named '" + std::string(entry) + "'" +
                          (names.empty() ? std::string(" (the kernel has none)") : "; it has: " + names));
  }
  kernel.shape.workgroup_size = ep->workgroup_size;
  kernel.shape.reads_num_workgroups = ep->reads_num_workgroups;

  std::vector<gpu::LayoutSlot> slots;
  for (const auto& b : kernel.reflection.bindings) {
    if (b.group != 0) return contract_error(b, "is outside group 0, the only group KEM binds");
    switch (b.binding) {
      case kInputBinding:
      case kOutputBinding:
        if (b.address_space != AddressSpace::storage) return contract_error(b, "must be a var<storage>");
        slots.push_back({b.binding, b.access == AccessMode::read ? gpu::BindingKind::read_only_storage
                                                                 : gpu::BindingKind::storage});
        (b.binding == kInputBinding ? kernel.declares_input : kernel.declares_output) = true;
        break;
      case kParamsBinding:
        if (b.address_space != AddressSpace::uniform) return contract_error(b, "must be a var<uniform>");
        slots.push_back({b.binding, gpu::BindingKind::uniform});
        kernel.shape.declares_params = true;
        break;
      default:
        return contract_error(b, "is not one of the contract's bindings 0 (input), 1 (output), 2 (params)");
    }
  }
  if (metered) slots.push_back({kMeterBinding, gpu::BindingKind::storage});

  auto layout = device.create_bind_group_layout(slots);
  if (!layout) return layout.take_error();
  kernel.layout = std::move(layout).value();
  auto pipeline = device.start_pipeline(module->get(), kernel.layout.get(), entry, front.constants);
  if (!pipeline) return pipeline.take_error();
  return KernelBuild{std::move(kernel), std::move(pipeline).value()};
}

std::optional<Status> finish_kernel(gpu::Device& device, KernelBuild& build, std::chrono::nanoseconds timeout) {
  auto pipeline = device.finish_pipeline(build.pipeline, timeout);
  if (!pipeline) return std::nullopt;
  if (!*pipeline) return Status(pipeline->take_error());
  build.kernel.pipeline = std::move(*pipeline).value();
  return Status{};
}

Result<CompiledKernel> compile_kernel(gpu::Device& device, std::string_view source, std::string_view entry,
                                      bool metered, std::span<const std::pair<std::string, double>> overrides) {
  auto build = start_kernel(device, source, entry, metered, overrides);
  if (!build) return build.take_error();
  // Waits as Device::create_pipeline does (no limit of its own).
  std::optional<Status> done;
  while (!(done = finish_kernel(device, *build, std::chrono::seconds(1)))) {
  }
  if (!*done) return done->take_error();
  return std::move(build->kernel);
}

}  // namespace kem::executor
