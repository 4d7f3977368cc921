// The gateway HTTP client against the loopback gateway, each way a gateway can misbehave.
#include <gtest/gtest.h>

#include "http_client.h"
#include "loopback_gateway.h"
#include "redirect_policy.h"

namespace kem::store {
namespace {

using namespace std::chrono_literals;
using testing::CannedResponse;
using testing::LoopbackGateway;

HttpLimits short_limits() {
  HttpLimits limits;
  limits.connect_timeout = 500ms;
  limits.total_timeout = 700ms;
  limits.max_body = 1000;
  return limits;
}

TEST(HttpClient, FetchesBytesAsStoredAndAsksForIdentity) {
  LoopbackGateway gateway;
  gateway.set("/raw/x", CannedResponse{.status = 200, .headers = {{"X-Test", "yes"}}, .body = "fn main() {}"});
  auto response = http_fetch({gateway.url() + "/raw/x"}, short_limits());
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "fn main() {}");
  EXPECT_EQ(response->header("x-test"), "yes");
  const auto requests = gateway.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].headers.at("accept-encoding"), "identity");
}

TEST(HttpClient, StatusCodesAreResponsesNotErrors) {
  LoopbackGateway gateway;
  gateway.set("/raw/busy", CannedResponse{.status = 429, .headers = {{"Retry-After", "1"}}});
  auto busy = http_fetch({gateway.url() + "/raw/busy"}, short_limits());
  ASSERT_TRUE(busy.ok());
  EXPECT_EQ(busy->status, 429);
  auto missing = http_fetch({gateway.url() + "/raw/missing"}, short_limits());
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
}

TEST(HttpClient, RefusesCompressedBodies) {
  LoopbackGateway gateway;
  gateway.set("/raw/x", CannedResponse{.headers = {{"Content-Encoding", "gzip"}}, .body = "\x1f\x8b..."});
  auto response = http_fetch({gateway.url() + "/raw/x"}, short_limits());
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::verification_failed);
  EXPECT_EQ(response.error().message,
            "sent Content-Encoding: gzip although asked for identity; the bytes cannot be verified as stored");
}

TEST(HttpClient, RefusesAnOversizedContentLengthBeforeTheBody) {
  LoopbackGateway gateway;
  gateway.set("/raw/x", CannedResponse{.body = "tiny", .declared_length = 5000000});
  auto response = http_fetch({gateway.url() + "/raw/x"}, short_limits());
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::limit_exceeded);
  EXPECT_EQ(response.error().message, "Content-Length 5000000 is over the limit of 1000 bytes");
}

TEST(HttpClient, RefusesABodyThatGrowsPastTheLimitWhileStreaming) {
  LoopbackGateway gateway;
  // No usable Content-Length up front: the bound must hold on the streamed bytes.
  gateway.set("/raw/x", CannedResponse{.body = std::string(1500, 'a'), .close_delimited = true});
  auto response = http_fetch({gateway.url() + "/raw/x"}, short_limits());
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::limit_exceeded);
  EXPECT_EQ(response.error().message, "body is over the limit of 1000 bytes");
  gateway.set("/raw/y", CannedResponse{.body = std::string(1000, 'a'), .close_delimited = true});
  auto at_limit = http_fetch({gateway.url() + "/raw/y"}, short_limits());
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().message;
  EXPECT_EQ(at_limit->body.size(), 1000u);
}

TEST(HttpClient, TruncatedBodyIsAnError) {
  LoopbackGateway gateway;
  gateway.set("/raw/x", CannedResponse{.body = "fn ma", .declared_length = 12});
  auto response = http_fetch({gateway.url() + "/raw/x"}, short_limits());
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::unavailable);
  EXPECT_EQ(response.error().message.rfind("truncated body: ", 0), 0u) << response.error().message;
}

TEST(HttpClient, StalledBodyTimesOut) {
  LoopbackGateway gateway;
  gateway.set("/raw/x", CannedResponse{.body = "fn main() {}", .stall = 5s});
  const auto start = std::chrono::steady_clock::now();
  auto response = http_fetch({gateway.url() + "/raw/x"}, short_limits());
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::timeout);
  EXPECT_LT(took, 3s);
}

TEST(HttpClient, FollowsUpToFiveRedirectsAndNoMore) {
  LoopbackGateway gateway;
  for (int i = 0; i < 5; ++i) {
    gateway.set("/hop" + std::to_string(i), CannedResponse{.status = 302, .headers = {{"Location", "/hop" + std::to_string(i + 1)}}});
  }
  gateway.set("/hop5", CannedResponse{.body = "arrived"});
  auto five = http_fetch({gateway.url() + "/hop0"}, short_limits());
  ASSERT_TRUE(five.ok()) << five.error().message;
  EXPECT_EQ(five->body, "arrived");
  EXPECT_EQ(five->url, gateway.url() + "/hop5");

  // A redirect not followed is the answer for this URL (a response), not a transport failure.
  gateway.set("/loop", CannedResponse{.status = 301, .headers = {{"Location", "/loop"}}});
  auto loop = http_fetch({gateway.url() + "/loop"}, short_limits());
  ASSERT_TRUE(loop.ok()) << loop.error().message;
  EXPECT_EQ(loop->status, 301);
  EXPECT_EQ(loop->redirect_refused, "more than 5 redirects (last to " + gateway.url() + "/loop)");
  EXPECT_EQ(gateway.count("GET", "/loop"), 6u);

  gateway.set("/nowhere", CannedResponse{.status = 302});
  auto nowhere = http_fetch({gateway.url() + "/nowhere"}, short_limits());
  ASSERT_TRUE(nowhere.ok()) << nowhere.error().message;
  EXPECT_EQ(nowhere->redirect_refused, "HTTP 302 without a Location");
}

// Each forbidden target, from a loopback gateway: refused before any connection is made to it
// (none of these addresses is listening here, so a followed redirect would be a transport error).
TEST(HttpClient, RedirectsThePolicyForbidsAreRefusedResponses) {
  LoopbackGateway gateway;
  const std::pair<std::string, std::string> cases[] = {
      {"http://example.com/raw/x", "not an allowed gateway URL"},
      {"http://10.1.2.3/raw/x", "not an allowed gateway URL"},
      {"https://10.1.2.3/raw/x", "a private address"},
      {"https://192.168.0.7/raw/x", "a private address"},
      {"https://172.20.0.1/raw/x", "a private address"},
      {"https://169.254.169.254/latest/meta-data", "a private address"},
      {"https://[fd00::1]/raw/x", "a private address"},
      {"https://[::ffff:10.0.0.1]/raw/x", "a private address"},
      {"ftp://127.0.0.1/raw/x", "not an allowed gateway URL"},
  };
  for (const auto& [target, why] : cases) {
    gateway.set("/raw/x", CannedResponse{.status = 302, .headers = {{"Location", target}}});
    auto response = http_fetch({gateway.url() + "/raw/x"}, short_limits());
    ASSERT_TRUE(response.ok()) << target << ": " << response.error().message;
    EXPECT_EQ(response->status, 302) << target;
    EXPECT_EQ(response->redirect_refused, "redirected to a URL the policy forbids: " + target + " (" + why + ")") << target;
  }
}

// A loopback gateway may send us to another loopback URL (a test gateway on another port).
TEST(HttpClient, LoopbackGatewayMayRedirectToLoopback) {
  LoopbackGateway first, second;
  second.set("/raw/x", CannedResponse{.body = "arrived"});
  first.set("/raw/x", CannedResponse{.status = 307, .headers = {{"Location", second.url() + "/raw/x"}}});
  auto response = http_fetch({first.url() + "/raw/x"}, short_limits());
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "arrived");
  EXPECT_EQ(response->redirect_refused, "");
}

TEST(HttpClient, ServesRangesAndHead) {
  LoopbackGateway gateway;
  gateway.set("/raw/root", CannedResponse{.headers = {{"X-AR-IO-Root-Transaction-Id", "r"}}, .body = "0123456789", .ranges = true});
  auto slice = http_fetch({gateway.url() + "/raw/root", false, std::pair<uint64_t, uint64_t>{2, 5}}, short_limits());
  ASSERT_TRUE(slice.ok());
  EXPECT_EQ(slice->status, 206);
  EXPECT_EQ(slice->body, "2345");
  auto head = http_fetch({gateway.url() + "/raw/root", true}, short_limits());
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->body, "");
  EXPECT_EQ(head->header("x-ar-io-root-transaction-id"), "r");
}

TEST(HttpClient, RefusedConnectionIsUnavailable) {
  LoopbackGateway gateway;
  const std::string url = gateway.url();
  gateway.stop();
  auto response = http_fetch({url + "/raw/x"}, short_limits());
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().code, ErrorCode::unavailable);
  EXPECT_EQ(response.error().message.rfind("connection failed: ", 0), 0u) << response.error().message;
}

TEST(HttpClient, UrlPolicyIsHttpsExceptForLoopback) {
  EXPECT_TRUE(check_url_policy("https://arweave.net").ok());
  EXPECT_TRUE(check_url_policy("http://127.0.0.1:8080").ok());
  EXPECT_TRUE(check_url_policy("http://localhost:1984/").ok());
  EXPECT_TRUE(check_url_policy("http://[::1]:1984").ok());
  auto plain = check_url_policy("http://arweave.net");
  ASSERT_FALSE(plain.ok());
  EXPECT_EQ(plain.error().message, "gateway URL must be https (plain http only for loopback test gateways): http://arweave.net");
  EXPECT_FALSE(check_url_policy("ftp://127.0.0.1").ok());
  EXPECT_FALSE(check_url_policy("https://user:pw@arweave.net").ok());
  EXPECT_FALSE(check_url_policy("not a url").ok());
  // A name that only starts like a loopback address is a DNS name: plain http is refused.
  EXPECT_FALSE(check_url_policy("http://127.example.com").ok());
}

// The rules for https gateways, which the loopback server cannot play (it speaks plain http).
TEST(RedirectPolicy, HttpsGatewaysNeverDowngradeNorReachInside) {
  const std::string gw = "https://arweave.net";
  const std::string from = gw + "/raw/x";
  EXPECT_TRUE(check_redirect(gw, from, "https://arweave.net/other").ok());
  EXPECT_TRUE(check_redirect(gw, from, "https://node1.arweave.example/raw/x").ok());
  EXPECT_TRUE(check_redirect(gw, from, "https://93.184.216.34/raw/x").ok());
  const std::pair<std::string, std::string> refused[] = {
      {"http://arweave.net/raw/x", "not an allowed gateway URL"},
      {"http://127.0.0.1/raw/x", "https must not downgrade to http"},
      {"http://localhost:1984/raw/x", "https must not downgrade to http"},
      {"https://127.0.0.1/raw/x", "a loopback address"},
      {"https://127.1.2.3:8443/raw/x", "a loopback address"},
      {"https://localhost/raw/x", "a loopback address"},
      {"https://[::1]/raw/x", "a loopback address"},
      {"https://[::ffff:127.0.0.1]/raw/x", "a loopback address"},
      {"https://10.0.0.8/raw/x", "a private address"},
      {"https://100.64.1.1/raw/x", "a private address"},
      {"https://[fe80::1]/raw/x", "a private address"},
      {"https://0.0.0.0/raw/x", "a private address"},
  };
  for (const auto& [target, why] : refused) {
    Status allowed = check_redirect(gw, from, target);
    ASSERT_FALSE(allowed.ok()) << target;
    EXPECT_EQ(allowed.error().code, ErrorCode::unavailable);
    EXPECT_EQ(allowed.error().message, "redirected to a URL the policy forbids: " + target + " (" + why + ")");
  }
  // The operator chose the gateway's host: a private https gateway may redirect within itself.
  EXPECT_TRUE(check_redirect("https://10.0.0.8", "https://10.0.0.8/raw/x", "https://10.0.0.8/raw/y").ok());
  // A loopback http gateway may redirect to loopback, but not to a private address.
  EXPECT_TRUE(check_redirect("http://127.0.0.1:1", "http://127.0.0.1:1/raw/x", "http://localhost:2/raw/x").ok());
  EXPECT_FALSE(check_redirect("http://127.0.0.1:1", "http://127.0.0.1:1/raw/x", "https://192.168.1.1/raw/x").ok());
}

// A public name may resolve to an inside address: the address connected to is checked too.
TEST(RedirectPolicy, TheConnectedAddressIsCheckedForRedirectedHops) {
  const std::string gw = "https://arweave.net";
  EXPECT_TRUE(check_connected_address(gw, "https://mirror.example/raw/x", "93.184.216.34").ok());
  EXPECT_TRUE(check_connected_address(gw, "https://mirror.example/raw/x", "2606:2800:220:1:248:1893:25c8:1946").ok());
  for (const char* ip : {"127.0.0.1", "::1", "10.2.3.4", "192.168.1.1", "169.254.169.254", "fd12::1", "::ffff:172.16.0.1"}) {
    Status allowed = check_connected_address(gw, "https://mirror.example/raw/x", ip);
    ASSERT_FALSE(allowed.ok()) << ip;
    EXPECT_EQ(allowed.error().message.rfind("redirected to a URL the policy forbids: https://mirror.example/raw/x (its host resolved to ", 0), 0u)
        << allowed.error().message;
  }
  EXPECT_TRUE(check_connected_address("http://127.0.0.1:5", "http://localhost:6/raw/x", "127.0.0.1").ok());
  EXPECT_TRUE(check_connected_address("https://gw.lan", "https://gw.lan/raw/y", "192.168.1.2").ok());
}

TEST(RedirectPolicy, AddressRanges) {
  for (const char* host : {"127.0.0.1", "127.255.0.1", "::1", "[::1]", "localhost", "::ffff:127.0.0.2"}) {
    EXPECT_TRUE(is_loopback_host(host)) << host;
    EXPECT_FALSE(is_private_address(host)) << host;
  }
  for (const char* host : {"10.0.0.0", "172.16.0.1", "172.31.255.255", "192.168.255.1", "100.127.0.1", "169.254.0.1",
                           "0.0.0.0", "224.0.0.1", "fc00::1", "fdff::1", "fe80::1%eth0", "[fe80::2]", "::", "ff02::1"}) {
    EXPECT_TRUE(is_private_address(host)) << host;
    EXPECT_FALSE(is_loopback_host(host)) << host;
  }
  for (const char* host : {"8.8.8.8", "172.32.0.1", "172.15.255.255", "100.128.0.1", "192.169.0.1", "2a00:1450::1",
                           "arweave.net", "127.example.com", "localhost.example"}) {
    EXPECT_FALSE(is_private_address(host)) << host;
    EXPECT_FALSE(is_loopback_host(host)) << host;
  }
}

}  // namespace
}  // namespace kem::store
