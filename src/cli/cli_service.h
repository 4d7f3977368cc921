// The kem::Service behind a one-shot subcommand (run, check, info), from its setting flags.
#pragma once

#include <memory>

#include "cli/setting_flags.h"
#include "kem/service.h"

namespace kem::cli {

struct OpenedService {
  std::unique_ptr<Service> service;
  int exit_status = 0;  // when `service` is null: kExitUsage for a bad setting, else kExitFailure
};

// A command opens one device unless --adapters (or --adapter) names more: a node serves from
// every GPU, a single call needs one. A kernel that is not an ID (a file, standard input) needs
// no disk cache, so none is created for it.
// `every_gpu`: no default adapter list, so that the service opens every GPU as a node does.
OpenedService open_service(const SettingFlags& flags, const KernelRef* kernel = nullptr, bool every_gpu = false);

// Prints a kernel's error (cli/diagnostics.h): a compile error with the source line it points
// at, which the service resolves again (a file read, or its memory cache).
void report_kernel_error(Service& service, const KernelRef& kernel, const std::string& name, const Error& error);

}  // namespace kem::cli
