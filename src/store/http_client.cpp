#include "http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <mutex>

#include "redirect_policy.h"

namespace kem::store {
namespace {

struct EasyFree { void operator()(CURL* c) const { curl_easy_cleanup(c); } };
struct UrlFree { void operator()(CURLU* u) const { curl_url_cleanup(u); } };
struct SlistFree { void operator()(curl_slist* s) const { curl_slist_free_all(s); } };
struct CurlString {
  char* text = nullptr;
  ~CurlString() { curl_free(text); }
};

void global_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

struct UrlParts {
  std::string scheme, host;
  bool has_extras = false;  // user info, query or fragment
  bool ok = false;
};

UrlParts split_url(const std::string& url) {
  UrlParts parts;
  std::unique_ptr<CURLU, UrlFree> handle(curl_url());
  if (!handle || curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return parts;
  CurlString scheme, host, user, query, fragment;
  if (curl_url_get(handle.get(), CURLUPART_SCHEME, &scheme.text, 0) != CURLUE_OK ||
      curl_url_get(handle.get(), CURLUPART_HOST, &host.text, 0) != CURLUE_OK) {
    return parts;
  }
  parts.scheme = lower(scheme.text);
  parts.host = lower(host.text);
  parts.has_extras = curl_url_get(handle.get(), CURLUPART_USER, &user.text, 0) == CURLUE_OK ||
                     curl_url_get(handle.get(), CURLUPART_QUERY, &query.text, 0) == CURLUE_OK ||
                     curl_url_get(handle.get(), CURLUPART_FRAGMENT, &fragment.text, 0) == CURLUE_OK;
  parts.ok = true;
  return parts;
}

// State shared with the libcurl callbacks of one hop.
struct Transfer {
  bool head = false;
  std::size_t max_body = 0;
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  Bytes body;
  std::string abort_reason;  // why a callback stopped the transfer
  ErrorCode abort_code = ErrorCode::internal;
  // For a redirected hop: where the fetch started, and where this hop goes, so that the
  // address libcurl connects to can be checked before a byte is sent (on_connected).
  const std::string* gateway = nullptr;
  const std::string* url = nullptr;
  std::string refused_address;
};

int on_connected(void* user, char* primary_ip, char* /*local_ip*/, int /*primary_port*/, int /*local_port*/) {
  auto* transfer = static_cast<Transfer*>(user);
  if (!transfer->gateway || !primary_ip) return CURL_PREREQFUNC_OK;
  if (Status allowed = check_connected_address(*transfer->gateway, *transfer->url, primary_ip); !allowed) {
    transfer->refused_address = allowed.error().message;
    return CURL_PREREQFUNC_ABORT;
  }
  return CURL_PREREQFUNC_OK;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after 1xx): forget the previous headers
    transfer->headers.clear();
    return line.size();
  }
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) return line.size();
  std::string name = lower(std::string(line.substr(0, colon)));
  std::string value = trim(line.substr(colon + 1));
  if (name == "content-encoding" && !value.empty() && lower(value) != "identity") {
    transfer->abort_code = ErrorCode::verification_failed;
    transfer->abort_reason = "sent Content-Encoding: " + value +
                             " although asked for identity; the bytes cannot be verified as stored";
    return 0;
  }
  if (name == "content-length" && !transfer->head) {
    const unsigned long long declared = std::strtoull(value.c_str(), nullptr, 10);
    if (declared > transfer->max_body) {
      transfer->abort_code = ErrorCode::limit_exceeded;
      transfer->abort_reason = "Content-Length " + value + " is over the limit of " + std::to_string(transfer->max_body) + " bytes";
      return 0;
    }
  }
  transfer->headers.emplace_back(std::move(name), std::move(value));
  return line.size();
}

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  if (transfer->body.size() + bytes > transfer->max_body) {
    transfer->abort_code = ErrorCode::limit_exceeded;
    transfer->abort_reason = "body is over the limit of " + std::to_string(transfer->max_body) + " bytes";
    return 0;
  }
  transfer->body.append(data, bytes);
  return bytes;
}

Error transport_error(CURLcode code, const char* detail) {
  const std::string text = detail && *detail ? std::string(detail) : std::string(curl_easy_strerror(code));
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: return make_error(ErrorCode::timeout, "timed out: " + text);
    case CURLE_PARTIAL_FILE: return make_error(ErrorCode::unavailable, "truncated body: " + text);
    case CURLE_COULDNT_CONNECT: return make_error(ErrorCode::unavailable, "connection failed: " + text);
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING: return make_error(ErrorCode::unavailable, "connection reset: " + text);
    default: return make_error(ErrorCode::unavailable, text);
  }
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view lower_case_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_case_name) return value;
  }
  return std::nullopt;
}

bool is_loopback_url(const std::string& url) {
  const UrlParts parts = split_url(url);
  return parts.ok && is_loopback_host(parts.host);
}

Status check_url_policy(const std::string& url) {
  const UrlParts parts = split_url(url);
  if (!parts.ok) return make_error(ErrorCode::invalid_argument, "not a URL: " + url);
  if (parts.has_extras) return make_error(ErrorCode::invalid_argument, "gateway URL must not carry user info, query or fragment: " + url);
  if (parts.scheme == "https") return {};
  if (parts.scheme == "http" && is_loopback_host(parts.host)) return {};
  return make_error(ErrorCode::invalid_argument,
                    "gateway URL must be https (plain http only for loopback test gateways): " + url);
}

Result<HttpResponse> http_fetch(const HttpRequest& request, const HttpLimits& limits) {
  global_init_once();
  std::unique_ptr<CURL, EasyFree> easy(curl_easy_init());
  if (!easy) return make_error(ErrorCode::internal, "libcurl could not create a handle");
  std::unique_ptr<curl_slist, SlistFree> headers(curl_slist_append(nullptr, "Accept-Encoding: identity"));
  curl_slist* more = headers ? curl_slist_append(headers.get(), "User-Agent: kem-kernel-store/0.1") : nullptr;
  if (!more) return make_error(ErrorCode::internal, "libcurl could not build request headers");

  const auto deadline = std::chrono::steady_clock::now() + limits.total_timeout;
  std::string url = request.url;
  const std::string range =
      request.range ? std::to_string(request.range->first) + "-" + std::to_string(request.range->second) : std::string();
  if (Status policy = check_url_policy(url); !policy) return make_error(ErrorCode::invalid_argument, policy.error().message);
  // The last 3xx, answered as the response when its redirect is not followed.
  std::optional<HttpResponse> redirect;
  const auto refuse = [&](std::string why) -> Result<HttpResponse> {
    redirect->redirect_refused = std::move(why);
    return std::move(*redirect);
  };
  for (int hop = 0;; ++hop) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return make_error(ErrorCode::timeout, "timed out across redirects");

    Transfer transfer;
    transfer.head = request.head;
    transfer.max_body = limits.max_body;
    if (hop > 0) {
      transfer.gateway = &request.url;
      transfer.url = &url;
    }
    char detail[CURL_ERROR_SIZE] = {0};
    CURL* c = easy.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM-based DNS timeouts
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_NOBODY, request.head ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_RANGE, range.empty() ? nullptr : range.c_str());
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(limits.connect_timeout.count()));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, detail);
    curl_easy_setopt(c, CURLOPT_PREREQFUNCTION, on_connected);
    curl_easy_setopt(c, CURLOPT_PREREQDATA, &transfer);
    // A proxy from the environment must not stand between us and a loopback test gateway.
    curl_easy_setopt(c, CURLOPT_PROXY, is_loopback_url(url) ? "" : nullptr);

    const CURLcode code = curl_easy_perform(c);
    if (!transfer.refused_address.empty()) return refuse(std::move(transfer.refused_address));
    if (!transfer.abort_reason.empty()) return make_error(transfer.abort_code, transfer.abort_reason);
    if (code != CURLE_OK) return transport_error(code, detail);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &transfer.status);

    HttpResponse response;
    response.status = transfer.status;
    response.headers = std::move(transfer.headers);
    response.body = std::move(transfer.body);
    response.url = url;
    if (transfer.status < 300 || transfer.status >= 400 || transfer.status == 304) return response;

    char* location = nullptr;
    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location);
    const std::string next = location ? location : "";
    redirect = std::move(response);
    if (next.empty()) return refuse("HTTP " + std::to_string(transfer.status) + " without a Location");
    if (hop >= limits.max_redirects) {
      return refuse("more than " + std::to_string(limits.max_redirects) + " redirects (last to " + next + ")");
    }
    if (Status allowed = check_redirect(request.url, url, next); !allowed) return refuse(allowed.error().message);
    url = next;
  }
}

}  // namespace kem::store
