#include "process/child_guard.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

namespace kem::process {

void die_with_parent(pid_t expected_parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The parent may have died before prctl: we were then re-parented already.
  if (getppid() != expected_parent) _exit(70);
}

Status limit_resources(uint64_t address_space_bytes, uint64_t cpu_seconds) {
  auto set = [](int resource, uint64_t value, const char* name) -> Status {
    rlimit limit{static_cast<rlim_t>(value), static_cast<rlim_t>(value)};
    if (setrlimit(resource, &limit) != 0)
      return make_error(ErrorCode::internal, std::string("setrlimit(") + name + "): " + std::strerror(errno));
    return {};
  };
  if (Status s = set(RLIMIT_CORE, 0, "RLIMIT_CORE"); !s) return s;
  if (address_space_bytes)
    if (Status s = set(RLIMIT_AS, address_space_bytes, "RLIMIT_AS"); !s) return s;
  if (cpu_seconds)
    if (Status s = set(RLIMIT_CPU, cpu_seconds, "RLIMIT_CPU"); !s) return s;
  return {};
}

}  // namespace kem::process
