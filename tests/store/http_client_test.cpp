// The gateway HTTP client against the loopback gateway, each way a gateway can misbehave.
#include <gtest/gtest.h>

#include "http_client.h"
#include "loopback_gateway.h"

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

  gateway.set("/loop", CannedResponse{.status = 301, .headers = {{"Location", "/loop"}}});
  auto loop = http_fetch({gateway.url() + "/loop"}, short_limits());
  ASSERT_FALSE(loop.ok());
  EXPECT_EQ(loop.error().code, ErrorCode::unavailable);
  EXPECT_EQ(loop.error().message, "more than 5 redirects (last to " + gateway.url() + "/loop)");
  EXPECT_EQ(gateway.count("GET", "/loop"), 6u);
}

TEST(HttpClient, RedirectToPlainHttpElsewhereIsRefused) {
  LoopbackGateway gateway;
  gateway.set("/raw/x", CannedResponse{.status = 302, .headers = {{"Location", "http://example.com/raw/x"}}});
  auto response = http_fetch({gateway.url() + "/raw/x"}, short_limits());
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.error().message, "redirected to a URL the policy forbids: http://example.com/raw/x");
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
}

}  // namespace
}  // namespace kem::store
