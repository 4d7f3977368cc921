// kem-gpu-worker: the process that holds a node's GPUs (see worker_server.h). Started by the
// service (worker_devices.h) as: kem-gpu-worker PARENT_PID, with its socket as descriptor 3.
#include <cstdlib>

#include "process/child_guard.h"
#include "worker/crash_report.h"
#include "worker/worker_server.h"

int main(int argc, char** argv) {
  if (argc != 2) return 64;
  kem::process::die_with_parent(static_cast<pid_t>(std::strtol(argv[1], nullptr, 10)));
  if (!kem::process::limit_resources(0, 0)) return 71;  // no core files from a driver crash
  kem::worker::report_fatal_signals(3);
  return kem::worker::serve(3);
}
