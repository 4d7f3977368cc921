// A small HTTP/1.1 server on 127.0.0.1 that plays an Arweave gateway for the tests: canned
// responses per path, and the ways real gateways misbehave (stalls, truncated bodies,
// oversized Content-Length, redirect loops, compressed bodies, 404/429/5xx/202). One request
// per connection; a thread per connection, all joined by stop().
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace kem::store::testing {

struct CannedResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers = {};
  std::string body = {};
  std::optional<std::size_t> declared_length = {};  // Content-Length to claim instead of body.size()
  std::chrono::milliseconds stall{0};          // pause after the headers, before the body
  bool ranges = false;                         // answer "Range: bytes=a-b" with 206 and a slice
  bool close_delimited = false;                // no Content-Length: the body ends when the connection does
};

struct RecordedRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // lower-cased names
};

class LoopbackGateway {
 public:
  LoopbackGateway();
  ~LoopbackGateway();
  LoopbackGateway(const LoopbackGateway&) = delete;
  LoopbackGateway& operator=(const LoopbackGateway&) = delete;

  // "http://127.0.0.1:PORT"
  std::string url() const;

  // Serves `response` for GET and HEAD of `path`; a "HEAD /path" key overrides HEAD only.
  // Unknown paths answer 404.
  void set(const std::string& key, CannedResponse response);

  std::size_t count(const std::string& method, const std::string& path) const;
  std::vector<RecordedRequest> requests() const;

  // Closes the port: later connections are refused. Idempotent.
  void stop();

 private:
  void accept_loop();
  void serve(int fd);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::condition_variable stop_signal_;
  std::map<std::string, CannedResponse> routes_;
  std::vector<RecordedRequest> requests_;
  std::vector<std::thread> connections_;
};

}  // namespace kem::store::testing
