#include "cli/cli_service.h"

#include "cli/cli_io.h"
#include "cli/commands.h"
#include "cli/diagnostics.h"

namespace kem::cli {

OpenedService open_service(const SettingFlags& flags, const KernelRef* kernel, bool every_gpu) {
  ServiceOptions defaults;
  if (!every_gpu) defaults.devices.adapters = {""};
  auto options = flags.apply(std::move(defaults));
  if (!options) return print_error(options.error()), OpenedService{nullptr, kExitUsage};
  if (Status trust = options->trust.validate(); !trust) return print_error(trust.error()), OpenedService{nullptr, kExitUsage};
  if (kernel && kernel->kind != KernelRef::Kind::arweave_id) options->store.disk_cache = false;
  auto service = Service::create(std::move(*options));
  if (!service) return print_error(service.error()), OpenedService{nullptr, kExitFailure};
  return OpenedService{std::move(service).value(), kExitOk};
}

void report_kernel_error(Service& service, const KernelRef& kernel, const std::string& name, const Error& error) {
  std::string source;
  if (error.code == ErrorCode::compile_error)
    if (auto resolved = service.resolve(kernel)) source = std::move(resolved->source);
  print_kernel_error(name, source, error);
}

}  // namespace kem::cli
