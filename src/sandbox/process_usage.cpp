#include "sandbox/process_usage.h"

#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>

namespace kem::sandbox {

Usage read_usage(pid_t pid) {
  Usage u;
  try {
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream status(dir + "/status");
  std::string line;
  while (std::getline(status, line)) {
    // "VmPeak:  2712345 kB"
    auto kib = [&](const char* key) -> std::optional<uint64_t> {
      if (line.rfind(key, 0) != 0) return std::nullopt;
      return std::stoull(line.substr(std::strlen(key))) * 1024;
    };
    if (auto v = kib("VmPeak:")) u.vm_peak = *v;
    if (auto v = kib("VmHWM:")) u.vm_hwm = *v;
    if (auto v = kib("VmSize:")) u.vm_size = *v;
  }
  std::ifstream stat(dir + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime
  // are the 14th and 15th fields of the line, the 12th and 13th after ") ".
  if (const size_t close = text.rfind(')'); close != std::string::npos) {
    std::istringstream rest(text.substr(close + 2));
    std::string field;
    uint64_t utime = 0, stime = 0;
    for (int i = 1; i <= 13 && rest >> field; ++i) {
      if (i == 12) utime = std::stoull(field);
      if (i == 13) stime = std::stoull(field);
    }
    const long ticks = sysconf(_SC_CLK_TCK);
    if (ticks > 0) u.cpu_ms = (utime + stime) * 1000 / static_cast<uint64_t>(ticks);
  }
  } catch (const std::exception&) {
    // A line that is not a number (a process that went away while it was read): what was read.
  }
  return u;
}

}  // namespace kem::sandbox
