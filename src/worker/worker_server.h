// The GPU worker process's side of its socket: it creates the devices (an ExecutorPool) from
// the service's hello, then turns each message into a call of the pool and each completion into
// a reply. Threads: the main thread reads the socket and submits (it never waits for the GPU);
// completions are sent from the pool's GPU threads; one control thread runs the requests that
// wait for a device (check, lose_device). See docs/ARCHITECTURE.md, "The GPU worker process".
#pragma once

namespace kem::worker {

// Serves the socket `fd` until the service closes it, then exits at once (_exit: nothing is left
// to answer, and the GPU may still be busy with abandoned work nobody should wait for). Returns
// only when the worker could not start (its exit status).
int serve(int fd);

}  // namespace kem::worker
