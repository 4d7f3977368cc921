#include "process/fatal_signals.h"

#include <signal.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

namespace kem::process {
namespace {

int g_socket = -1;
char g_message[256];  // prefix, "NN", suffix; built before any signal can arrive
size_t g_digits_at = 0, g_size = 0;

void on_fatal_signal(int signal) {
  char message[sizeof g_message];
  std::memcpy(message, g_message, g_size);
  message[g_digits_at] = static_cast<char>('0' + signal / 10 % 10);
  message[g_digits_at + 1] = static_cast<char>('0' + signal % 10);
  // One send: on a SOCK_SEQPACKET or stream socket it is never mixed into another message.
  (void)send(g_socket, message, g_size, MSG_NOSIGNAL | MSG_DONTWAIT);
  // SA_RESETHAND restored the default action: a signal caused by an instruction comes again
  // when the handler returns; one sent by kill() or abort() is raised again here (it is
  // blocked until the handler returns). Either way the process dies of it.
  raise(signal);
}

}  // namespace

void report_fatal_signals(int socket, std::string_view prefix, std::string_view suffix) {
  if (prefix.size() + 2 + suffix.size() > sizeof g_message) return;
  g_socket = socket;
  std::memcpy(g_message, prefix.data(), prefix.size());
  g_digits_at = prefix.size();
  std::memcpy(g_message + prefix.size() + 2, suffix.data(), suffix.size());
  g_size = prefix.size() + 2 + suffix.size();
  static std::vector<char> alternate(1 << 16);
  stack_t stack{};
  stack.ss_sp = alternate.data();
  stack.ss_size = alternate.size();
  sigaltstack(&stack, nullptr);
  struct sigaction action {};
  action.sa_handler = on_fatal_signal;
  action.sa_flags = SA_RESETHAND | SA_ONSTACK;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGFPE, SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGSYS, SIGXCPU}) sigaction(signal, &action, nullptr);
}

int fatal_signal_of(std::string_view two_digits) {
  if (two_digits.size() != 2 || two_digits[0] < '0' || two_digits[0] > '9' || two_digits[1] < '0' ||
      two_digits[1] > '9')
    return 0;
  return (two_digits[0] - '0') * 10 + (two_digits[1] - '0');
}

}  // namespace kem::process
