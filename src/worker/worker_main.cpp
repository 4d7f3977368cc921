// kem-gpu-worker: the process that holds a node's GPUs (see worker_server.h). Started by the
// service (worker_devices.h) as: kem-gpu-worker PARENT_PID, with its socket as descriptor 3.
#include <cstdlib>
#include <string>

#include "process/child_guard.h"
#include "process/fatal_signals.h"
#include "worker/protocol.h"
#include "worker/worker_server.h"

int main(int argc, char** argv) {
  if (argc != 2) return 64;
  kem::process::die_with_parent(static_cast<pid_t>(std::strtol(argv[1], nullptr, 10)));
  if (!kem::process::limit_resources(0, 0)) return 71;  // no core files from a driver crash
  // dying(signal): one inline message (channel.cpp's framing byte, then the message), its
  // signal as text of two digits.
  kem::worker::Writer head = kem::worker::message(kem::worker::Kind::dying);
  head.u64(2);
  std::string prefix(1, '\0');
  prefix.append(head.data().begin(), head.data().end());
  kem::process::report_fatal_signals(3, prefix, "");
  return kem::worker::serve(3);
}
