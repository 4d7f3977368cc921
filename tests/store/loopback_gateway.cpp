#include "loopback_gateway.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace kem::store::testing {
namespace {

constexpr std::size_t kMaxConnections = 256;  // bounds the threads a runaway test can start

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t sent = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(sent));
  }
  return true;
}

}  // namespace

LoopbackGateway::LoopbackGateway() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof address;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listen_fd_, 64) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    throw std::runtime_error("loopback gateway: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(address.sin_port);
  acceptor_ = std::thread([this] { accept_loop(); });
}

LoopbackGateway::~LoopbackGateway() { stop(); }

std::string LoopbackGateway::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void LoopbackGateway::set(const std::string& key, CannedResponse response) {
  std::lock_guard lock(mutex_);
  routes_[key] = std::move(response);
}

std::size_t LoopbackGateway::count(const std::string& method, const std::string& path) const {
  std::lock_guard lock(mutex_);
  return static_cast<std::size_t>(std::count_if(requests_.begin(), requests_.end(), [&](const RecordedRequest& r) {
    return r.method == method && r.path == path;
  }));
}

std::vector<RecordedRequest> LoopbackGateway::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

void LoopbackGateway::stop() {
  if (stopping_.exchange(true)) return;
  ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept()
  acceptor_.join();
  ::close(listen_fd_);
  stop_signal_.notify_all();
  std::vector<std::thread> connections;
  {
    std::lock_guard lock(mutex_);
    connections.swap(connections_);
  }
  for (std::thread& connection : connections) connection.join();
}

void LoopbackGateway::accept_loop() {
  while (!stopping_) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_) return;
      continue;
    }
    std::lock_guard lock(mutex_);
    if (connections_.size() >= kMaxConnections) {
      ::close(fd);
      continue;
    }
    connections_.emplace_back([this, fd] { serve(fd); });
  }
}

void LoopbackGateway::serve(int fd) {
  // A client that never finishes its request cannot hold stop() for long.
  timeval receive_timeout{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &receive_timeout, sizeof receive_timeout);
  std::string head;
  char buffer[4096];
  while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
    const ssize_t got = ::recv(fd, buffer, sizeof buffer, 0);
    if (got <= 0) {
      ::close(fd);
      return;
    }
    head.append(buffer, static_cast<std::size_t>(got));
  }
  RecordedRequest request;
  const std::size_t line_end = head.find("\r\n");
  const std::string line = head.substr(0, line_end);
  const std::size_t space1 = line.find(' ');
  const std::size_t space2 = line.find(' ', space1 + 1);
  request.method = line.substr(0, space1);
  request.path = line.substr(space1 + 1, space2 - space1 - 1);
  for (std::size_t pos = line_end + 2; pos < head.size();) {
    const std::size_t end = head.find("\r\n", pos);
    if (end == std::string::npos || end == pos) break;
    const std::string header = head.substr(pos, end - pos);
    const std::size_t colon = header.find(':');
    if (colon != std::string::npos) {
      request.headers[lower(header.substr(0, colon))] = header.substr(header.find_first_not_of(' ', colon + 1));
    }
    pos = end + 2;
  }

  CannedResponse response{.status = 404, .body = "not found"};
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
    if (auto it = routes_.find(request.method + " " + request.path); it != routes_.end()) {
      response = it->second;
    } else if (auto plain = routes_.find(request.path); plain != routes_.end()) {
      response = plain->second;
    }
  }

  std::string body = response.body;
  int status = response.status;
  std::string extra;
  if (auto range = request.headers.find("range"); response.ranges && range != request.headers.end()) {
    unsigned long long first = 0, last = 0;
    if (std::sscanf(range->second.c_str(), "bytes=%llu-%llu", &first, &last) == 2 && first <= last && first < body.size()) {
      last = std::min<unsigned long long>(last, body.size() - 1);
      extra = "Content-Range: bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
              std::to_string(body.size()) + "\r\n";
      body = body.substr(first, last - first + 1);
      status = 206;
    }
  }
  std::string out = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
  for (const auto& [name, value] : response.headers) out += name + ": " + value + "\r\n";
  out += extra;
  if (!response.close_delimited) {
    out += "Content-Length: " + std::to_string(response.declared_length.value_or(body.size())) + "\r\n";
  }
  out += "Connection: close\r\n\r\n";
  bool ok = send_all(fd, out);
  if (ok && response.stall.count() > 0) {
    std::unique_lock lock(mutex_);
    stop_signal_.wait_for(lock, response.stall, [this] { return stopping_.load(); });
  }
  if (ok && request.method != "HEAD") send_all(fd, body);
  ::close(fd);
}

}  // namespace kem::store::testing
