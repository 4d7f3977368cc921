// A helper program's last words: handlers for the fatal signals a driver can raise (SIGFPE in
// a shader compiler, SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGSYS; SIGXCPU at a CPU limit) send one message on the
// program's socket, `prefix`, the signal's number as two decimal digits, `suffix`, in a single
// send, then let the signal take its default course. The parent then knows how its child ended
// even when the exit status is lost: a process that ignores SIGCHLD (the BEAM does) has its
// children reaped by the kernel, and KEM gets no status to collect.
#pragma once

#include <string_view>

namespace kem::process {

// Installs the handlers (on an alternate stack: a stack overflow is a SIGSEGV with no stack
// left). Async-signal-safe inside; call once, early.
void report_fatal_signals(int socket, std::string_view prefix, std::string_view suffix);

// The signal in such a message's two digits, or 0.
int fatal_signal_of(std::string_view two_digits);

}  // namespace kem::process
