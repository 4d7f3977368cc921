// The GPU worker's last words: handlers for the fatal signals a driver can raise (SIGFPE in a
// shader compiler, SIGSEGV, SIGBUS, SIGILL, SIGABRT, SIGSYS) send one message, dying(signal), on
// the worker's socket, then let the signal take its default course. The service then knows how
// the worker ended even when its exit status is lost: a parent that reaps every child itself
// (the BEAM does) leaves KEM no status to collect.
#pragma once

namespace kem::worker {

// Installs the handlers; `socket` is the worker's end of its socket. Async-signal-safe inside.
void report_fatal_signals(int socket);

}  // namespace kem::worker
