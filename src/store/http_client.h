// One HTTP exchange with a gateway, through libcurl, with the rules the store needs: bytes
// exactly as stored (Accept-Encoding: identity, and any other Content-Encoding refused), a
// body bound checked on Content-Length and while streaming, connect and total timeouts, and
// redirects followed by hand (at most max_redirects) so every hop passes the URL policy
// (HTTPS, or plain HTTP to a loopback host for test gateways) and the redirect policy
// (redirect_policy.h: no downgrade to http, no loopback or private targets).
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
  // Set on a 3xx that was not followed, and why: the redirect policy forbids its target, it
  // has no Location, or it is one redirect too many. The gateway's answer for this one URL,
  // not a sign that the gateway is down.
  std::string redirect_refused;

  std::optional<std::string> header(std::string_view lower_case_name) const;
};

// Any HTTP status is a response (a redirect not followed too, see redirect_refused); errors
// are what kept one from arriving whole, the transport's failures:
// timeout (connect or total), unavailable (refused, reset, truncated), limit_exceeded (body over max_body), verification_failed
// (a Content-Encoding other than identity), invalid_argument (the URL breaks the policy).
Result<HttpResponse> http_fetch(const HttpRequest& request, const HttpLimits& limits);

// HTTPS, or HTTP to 127.0.0.0/8, ::1 or localhost; no user info, query or fragment.
Status check_url_policy(const std::string& url);

// True for 127.0.0.0/8, ::1 and localhost URLs (the host must be exactly that, not a name
// that merely starts with "127.").
bool is_loopback_url(const std::string& url);

}  // namespace kem::store
