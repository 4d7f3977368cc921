#include "worker/crash_report.h"

#include <signal.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "worker/protocol.h"

namespace kem::worker {
namespace {

int g_socket = -1;
// The message, built once (the handler may not allocate): channel framing (inline), the kind,
// the id (0), then the signal number, patched in by the handler.
uint8_t g_message[1 + 1 + 8 + 4];
constexpr size_t kSignalAt = 1 + 1 + 8;

void on_fatal_signal(int signal) {
  uint8_t message[sizeof g_message];
  std::memcpy(message, g_message, sizeof message);
  const uint32_t number = static_cast<uint32_t>(signal);
  std::memcpy(message + kSignalAt, &number, sizeof number);
  // One SOCK_SEQPACKET message: whole or not at all, never mixed with a reply being sent.
  (void)send(g_socket, message, sizeof message, MSG_NOSIGNAL | MSG_DONTWAIT);
  // SA_RESETHAND restored the default action: returning re-executes the faulting instruction
  // (or raise() below, for signals sent rather than caused), and the process dies of it.
  raise(signal);
}

}  // namespace

void report_fatal_signals(int socket) {
  g_socket = socket;
  Writer w = message(Kind::dying);
  w.u32(0);
  g_message[0] = 0;  // inline framing (channel.cpp)
  std::memcpy(g_message + 1, w.data().data(), w.data().size());
  // A stack overflow is a SIGSEGV with no stack left: the handler runs on its own.
  static std::vector<uint8_t> alternate(1 << 16);
  stack_t stack{};
  stack.ss_sp = alternate.data();
  stack.ss_size = alternate.size();
  sigaltstack(&stack, nullptr);
  struct sigaction action {};
  action.sa_handler = on_fatal_signal;
  action.sa_flags = SA_RESETHAND | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGFPE, SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGSYS}) sigaction(signal, &action, nullptr);
}

}  // namespace kem::worker
