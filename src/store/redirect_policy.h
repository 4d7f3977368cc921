// Where a gateway may send us. A redirect is the gateway's word, not the operator's, so it
// gets less trust than the configured URL: never from https down to plain http (the bytes and
// their proofs would travel unauthenticated), and never to a loopback or private address
// unless the gateway itself is loopback (a test gateway); otherwise a public gateway could
// make KEM fetch from services inside the node's own network (SSRF). Same-host redirects are
// always followed: the operator already chose that host.
#pragma once

#include <string>

#include "kem/result.h"

namespace kem::store {

// 127.0.0.0/8, ::1 (also IPv4-mapped), localhost (brackets around IPv6 literals are accepted).
bool is_loopback_host(const std::string& host);

// Addresses that are not the public internet: RFC 1918, carrier-grade NAT (100.64/10),
// link-local (169.254/16, fe80::/10, where cloud metadata services live), 0/8, unique local
// (fc00::/7), multicast and reserved ranges, and the IPv4-mapped forms of all of these.
// Loopback is separate (is_loopback_host). Host names are not resolved here: false.
bool is_private_address(const std::string& host);

// Whether a hop from `from` (the URL that answered 3xx) to `to` may be followed; `gateway` is
// the URL the fetch started at. The error (unavailable) says why not.
Status check_redirect(const std::string& gateway, const std::string& from, const std::string& to);

// Whether the address libcurl actually connected to for a redirected hop is acceptable: a
// host name may resolve to a private or loopback address even though its text does not say so.
Status check_connected_address(const std::string& gateway, const std::string& url, const std::string& ip);

}  // namespace kem::store
