// One HTTP exchange with a gateway, through libcurl, with the rules the store needs: bytes
// exactly as stored (Accept-Encoding: identity, and any other Content-Encoding refused), a
// body bound checked on Content-Length and while streaming, connect and total timeouts, and
// redirects followed by hand (at most max_redirects) so every hop passes the URL policy:
// HTTPS, or plain HTTP to a loopback host (test gateways).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bytes.h"
#include "kem/result.h"

namespace kem::store {

struct HttpLimits {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{30000};  // all hops together
  std::size_t max_body = 1 << 20;
  int max_redirects = 5;
};

struct HttpRequest {
  std::string url = {};
  bool head = false;
  std::optional<std::pair<uint64_t, uint64_t>> range = {};  // inclusive byte range
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  Bytes body;
  std::string url;  // after redirects

  std::optional<std::string> header(std::string_view lower_case_name) const;
};

// Any HTTP status is a response; errors are what kept one from arriving whole:
// timeout (connect or total), unavailable (refused, reset, truncated, redirect loop or a
// redirect the policy forbids), limit_exceeded (body over max_body), verification_failed
// (a Content-Encoding other than identity), invalid_argument (the URL breaks the policy).
Result<HttpResponse> http_fetch(const HttpRequest& request, const HttpLimits& limits);

// HTTPS, or HTTP to 127.0.0.0/8, ::1 or localhost; no user info, query or fragment.
Status check_url_policy(const std::string& url);

// True for 127.0.0.0/8, ::1 and localhost URLs.
bool is_loopback_url(const std::string& url);

}  // namespace kem::store
