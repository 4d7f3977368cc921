// What the parent (sandbox_run.h) and the child (sandbox_main.cpp) say to each other over the
// one socket between them (descriptor kChannelFd in the child). Every message of the child is
// one line of JSON; the request is a JSON header line and the source's raw bytes, ended by the
// parent's shutdown(SHUT_WR):
//
//   child:  {"ready":true,"address_space_limit":N}   Dawn, adapter and device are up; its RLIMIT_AS
//           or {"start_error":{...}}            they could not be created (not the kernel's fault)
//   parent: {"entry":...,"unmetered":...,"overrides":[[name,value],...]}, a newline, the source
//   child:  {"ok":true,...} or {"ok":false,"code":"compile_error","message":"3:5: ..."}, then exits
//           or {"signal":"08"}                  its last words: a fatal signal's handler
//                                               (process/fatal_signals.h), then it dies of it
//
// Each verdict also carries the child's own measurements (VmPeak, VmHWM, CPU time), which is how
// the default limits were chosen.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kem/kernel_request.h"
#include "kem/result.h"

namespace kem::sandbox {

// The child's end of the socket.
constexpr int kChannelFd = 3;

// The child's own exit statuses (a driver's fatal-error handler may exit(1) too).
constexpr int kExitUsage = 64;
constexpr int kExitNoLimits = 71;
constexpr int kExitNoDevice = 72;
constexpr int kExitNoChannel = 73;   // could not say it was ready
constexpr int kExitNoRequest = 74;   // could not read the request
constexpr int kExitBadRequest = 75;  // a request it could not parse (a verdict says so)

// The arguments of kem-kernel-sandbox, in the order of its command line.
struct ChildArguments {
  long parent_pid = 0;
  uint64_t address_space_bytes = 0;
  uint64_t cpu_seconds = 0;
  std::string adapter;
  bool metering = true;
};
std::vector<std::string> to_args(const ChildArguments& a);
Result<ChildArguments> parse_args(int argc, char** argv);

// A request as the child holds it: owns what KernelRequest only views.
struct CompileJob {
  std::string source;
  std::string entry = "main";
  bool unmetered = false;
  std::vector<std::pair<std::string, double>> overrides;
  KernelRequest request() const;  // views into this job
};
std::string encode_job(const KernelRequest& request);
Result<CompileJob> decode_job(std::string_view text);

// The child's measurements of itself (/proc/self/status, getrusage).
struct Usage {
  uint64_t vm_peak = 0, vm_hwm = 0, cpu_ms = 0;
  uint64_t vm_size = 0;  // now (not part of a verdict)
};

// What the compile said: OK or its error, as the child ran it to the end.
struct Verdict {
  Status status;
  Usage usage;
};
std::string encode_verdict(const Status& status, const Usage& usage);
std::string encode_ready(uint64_t address_space_limit);
std::string encode_start_error(const Error& error);
// What the child's fatal-signal handler sends: this, two digits, kSignalSuffix.
constexpr std::string_view kSignalPrefix = "{\"signal\":\"";
constexpr std::string_view kSignalSuffix = "\"}\n";

// One line of the child, parsed.
struct ChildMessage {
  enum class Kind { ready, start_error, verdict, signal } kind = Kind::verdict;
  int signal = 0;  // signal: the one the child is dying of
  Verdict verdict;  // the error for start_error
  uint64_t address_space_limit = 0;  // ready: the RLIMIT_AS the child set itself
};
Result<ChildMessage> decode_message(std::string_view line);

}  // namespace kem::sandbox
