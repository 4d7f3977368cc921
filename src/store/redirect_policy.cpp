#include "redirect_policy.h"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <memory>

#include "http_client.h"

namespace kem::store {
namespace {

struct UrlFree { void operator()(CURLU* u) const { curl_url_cleanup(u); } };
struct CurlString {
  char* text = nullptr;
  ~CurlString() { curl_free(text); }
};

struct SchemeHost {
  std::string scheme, host;
  bool ok = false;
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

SchemeHost scheme_host(const std::string& url) {
  SchemeHost out;
  std::unique_ptr<CURLU, UrlFree> handle(curl_url());
  if (!handle || curl_url_set(handle.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return out;
  CurlString scheme, host;
  if (curl_url_get(handle.get(), CURLUPART_SCHEME, &scheme.text, 0) != CURLUE_OK ||
      curl_url_get(handle.get(), CURLUPART_HOST, &host.text, 0) != CURLUE_OK) {
    return out;
  }
  out.scheme = lower(scheme.text);
  out.host = lower(host.text);
  out.ok = true;
  return out;
}

std::string unbracket(std::string host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  // A zone index (fe80::1%eth0) does not change which range the address is in.
  if (const auto zone = host.find('%'); zone != std::string::npos) host.resize(zone);
  return host;
}

bool in_v4(uint32_t address, uint32_t network, int prefix) {
  const uint32_t mask = prefix == 0 ? 0 : ~uint32_t{0} << (32 - prefix);
  return (address & mask) == (network & mask);
}

constexpr uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) { return (a << 24) | (b << 16) | (c << 8) | d; }

bool private_v4(uint32_t a) {
  return in_v4(a, v4(0, 0, 0, 0), 8) || in_v4(a, v4(10, 0, 0, 0), 8) || in_v4(a, v4(100, 64, 0, 0), 10) ||
         in_v4(a, v4(169, 254, 0, 0), 16) || in_v4(a, v4(172, 16, 0, 0), 12) || in_v4(a, v4(192, 0, 0, 0), 24) ||
         in_v4(a, v4(192, 168, 0, 0), 16) || in_v4(a, v4(198, 18, 0, 0), 15) || in_v4(a, v4(224, 0, 0, 0), 3);
}

std::optional<uint32_t> parse_v4(const std::string& text) {
  in_addr address{};
  if (inet_pton(AF_INET, text.c_str(), &address) != 1) return std::nullopt;
  return ntohl(address.s_addr);
}

std::optional<std::array<uint8_t, 16>> parse_v6(const std::string& text) {
  in6_addr address{};
  if (inet_pton(AF_INET6, text.c_str(), &address) != 1) return std::nullopt;
  std::array<uint8_t, 16> bytes{};
  std::copy(address.s6_addr, address.s6_addr + 16, bytes.begin());
  return bytes;
}

// The IPv4 address inside ::ffff:a.b.c.d (mapped) or ::a.b.c.d (compatible), if it is one.
std::optional<uint32_t> embedded_v4(const std::array<uint8_t, 16>& b) {
  const bool zeros = std::all_of(b.begin(), b.begin() + 10, [](uint8_t x) { return x == 0; });
  if (!zeros) return std::nullopt;
  const bool mapped = b[10] == 0xff && b[11] == 0xff;
  const bool compatible = b[10] == 0 && b[11] == 0;
  if (!mapped && !compatible) return std::nullopt;
  return (uint32_t{b[12]} << 24) | (uint32_t{b[13]} << 16) | (uint32_t{b[14]} << 8) | b[15];
}

bool loopback_address(const std::string& host) {
  if (auto a = parse_v4(host)) return in_v4(*a, v4(127, 0, 0, 0), 8);
  if (auto b = parse_v6(host)) {
    const bool one = std::all_of(b->begin(), b->begin() + 15, [](uint8_t x) { return x == 0; }) && (*b)[15] == 1;
    if (one) return true;
    if (auto a = embedded_v4(*b)) return in_v4(*a, v4(127, 0, 0, 0), 8);
  }
  return false;
}

Error refused(const std::string& to, const std::string& why) {
  return make_error(ErrorCode::unavailable, "redirected to a URL the policy forbids: " + to + " (" + why + ")");
}

}  // namespace

bool is_loopback_host(const std::string& host_text) {
  const std::string host = unbracket(lower(host_text));
  // Not *.localhost: only some resolvers map those to loopback; the rest ask DNS.
  if (host == "localhost") return true;
  return loopback_address(host);
}

bool is_private_address(const std::string& host_text) {
  const std::string host = unbracket(lower(host_text));
  if (loopback_address(host)) return false;
  if (auto a = parse_v4(host)) return private_v4(*a);
  auto b = parse_v6(host);
  if (!b) return false;
  if (auto a = embedded_v4(*b)) {
    return private_v4(*a);  // 0/8 covers :: (unspecified)
  }
  const uint8_t first = (*b)[0], second = (*b)[1];
  return (first & 0xfe) == 0xfc ||                     // fc00::/7 unique local
         (first == 0xfe && (second & 0xc0) == 0x80) ||  // fe80::/10 link-local
         (first == 0xfe && (second & 0xc0) == 0xc0) ||  // fec0::/10 site-local (deprecated)
         first == 0xff ||                               // multicast
         (first == 0x20 && second == 0x01 && (*b)[2] == 0x0d && (*b)[3] == 0xb8);  // 2001:db8::/32 documentation
}

Status check_redirect(const std::string& gateway, const std::string& from, const std::string& to) {
  const SchemeHost origin = scheme_host(gateway), source = scheme_host(from), target = scheme_host(to);
  if (!origin.ok || !source.ok || !target.ok) return refused(to, "not a URL");
  if (Status policy = check_url_policy(to); !policy) return refused(to, "not an allowed gateway URL");
  if (source.scheme == "https" && target.scheme != "https") return refused(to, "https must not downgrade to http");
  if (origin.scheme == "https" && target.scheme != "https") return refused(to, "https must not downgrade to http");
  if (target.host == origin.host) return {};
  const bool origin_loopback = is_loopback_host(origin.host);
  if (is_loopback_host(target.host) && !origin_loopback) return refused(to, "a loopback address");
  if (is_private_address(target.host)) return refused(to, "a private address");
  return {};
}

Status check_connected_address(const std::string& gateway, const std::string& url, const std::string& ip) {
  const SchemeHost origin = scheme_host(gateway), target = scheme_host(url);
  if (!origin.ok || !target.ok) return refused(url, "not a URL");
  if (target.host == origin.host) return {};
  if (is_loopback_host(ip) && !is_loopback_host(origin.host)) return refused(url, "its host resolved to loopback " + ip);
  if (is_private_address(ip)) return refused(url, "its host resolved to private " + ip);
  return {};
}

}  // namespace kem::store
