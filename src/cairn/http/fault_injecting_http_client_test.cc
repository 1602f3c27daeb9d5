#include "cairn/http/fault_injecting_http_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "cairn/http/curl_http_client.h"
#include "cairn/testing/http_test_server.h"
#include "cairn/testing/status_matchers.h"
#include "cairn/testing/watchdog.h"

namespace cairn::http {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;

std::string Pattern(size_t size) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>(i % 251);
  return out;
}

// Answers every request 200 with `body_` (in 1000-byte pieces when streamed) after reading the
// whole request body; remembers what it received.
class FakeHttpClient : public HttpClient {
 public:
  explicit FakeHttpClient(std::string body) : body_(std::move(body)) {}

  Result<HttpResponse> Send(const HttpRequest& request,
                            const ResponseBody& response_body) override {
    ++calls_;
    last_request_body_.clear();
    if (request.body.is_bytes()) last_request_body_ = request.body.bytes();
    if (request.body.is_stream()) {
      char buffer[4096];
      while (true) {
        CAIRN_ASSIGN_OR_RETURN(size_t n, request.body.source()(std::span<char>(buffer)));
        if (n == 0) break;
        last_request_body_.append(buffer, n);
      }
    }
    HttpResponse response;
    response.status_code = 200;
    response.headers.Add("Content-Length", std::to_string(body_.size()));
    if (response_body.on_headers()) CAIRN_RETURN_IF_ERROR(response_body.on_headers()(response));
    response.body_bytes = body_.size();
    if (!response_body.streamed()) {
      if (body_.size() > response_body.max_bytes()) return ResourceExhaustedError("too big");
      response.body = body_;
      return response;
    }
    for (size_t at = 0; at < body_.size(); at += 1000) {
      CAIRN_RETURN_IF_ERROR(response_body.sink()(std::string_view(body_).substr(at, 1000)));
    }
    return response;
  }

  int calls() const { return calls_; }
  const std::string& last_request_body() const { return last_request_body_; }

 private:
  std::string body_;
  int calls_ = 0;
  std::string last_request_body_;
};

HttpRequest Get() {
  HttpRequest request;
  request.method = "GET";
  request.url = "http://s3.local/bucket/key?X-Amz-Signature=SECRET";
  return request;
}

struct Fetched {
  Result<HttpResponse> result;
  std::string bytes;
};

Fetched Stream(HttpClient& client, const HttpRequest& request) {
  Fetched out{InternalError("unset"), ""};
  out.result = client.Send(request, ResponseBody::Stream([&out](std::string_view piece) {
                             out.bytes.append(piece);
                             return Status::OK();
                           }));
  return out;
}

TEST(FaultInjectingHttpClientTest, NoRatesPassesEverythingThrough) {
  const std::string body = Pattern(10000);
  FakeHttpClient fake(body);
  FaultInjectingHttpClient client(&fake, {.seed = 7});
  for (int i = 0; i < 50; ++i) {
    Fetched got = Stream(client, Get());
    ASSERT_OK(got.result);
    EXPECT_EQ(got.bytes, body);
  }
  EXPECT_EQ(fake.calls(), 50);
  EXPECT_EQ(client.counts().requests, 50u);
  EXPECT_EQ(client.counts().faults(), 0u);
}

TEST(FaultInjectingHttpClientTest, SlowDownIsAnS3ErrorReply) {
  FakeHttpClient fake("data");
  FaultInjectingHttpClient client(&fake, {.rates = {.slow_down = 1}});
  bool saw_headers = false;
  Result<HttpResponse> result =
      client.Send(Get(), ResponseBody::Stream([](std::string_view) { return Status::OK(); },
                                              [&saw_headers](const HttpResponse& head) {
                                                saw_headers = head.status_code == 503;
                                                return Status::OK();
                                              }));
  ASSERT_OK(result);
  EXPECT_EQ(result->status_code, 503);
  EXPECT_THAT(result->body, HasSubstr("<Code>SlowDown</Code>"));
  EXPECT_EQ(result->headers.Get("x-amz-request-id").value_or(""), "cairnfault1");
  EXPECT_TRUE(saw_headers);
  EXPECT_EQ(fake.calls(), 0);
  EXPECT_EQ(client.counts().slow_downs, 1u);
  EXPECT_THAT(HttpStatusToStatus(result->status_code, "GET k"), StatusIs(StatusCode::kUnavailable));
  // Collected too, within the limit or not.
  ASSERT_OK_AND_ASSIGN(HttpResponse collected, client.Send(Get(), ResponseBody::Collect(4096)));
  EXPECT_EQ(collected.status_code, 503);
  EXPECT_THAT(client.Send(Get(), ResponseBody::Collect(10)),
              StatusIs(StatusCode::kResourceExhausted));
}

TEST(FaultInjectingHttpClientTest, ResetBeforeSendingNeverReachesTheServer) {
  FakeHttpClient fake("data");
  FaultInjectingHttpClient client(&fake, {.rates = {.reset_before = 1}});
  Result<HttpResponse> result = client.Send(Get(), ResponseBody::Collect(100));
  EXPECT_THAT(result, StatusIs(StatusCode::kUnavailable, HasSubstr("connection reset")));
  EXPECT_THAT(result.status().message(), ::testing::Not(HasSubstr("SECRET")));
  EXPECT_EQ(result.status().detail().sys_errno, ECONNRESET);
  EXPECT_EQ(fake.calls(), 0);
  EXPECT_EQ(client.counts().resets_before, 1u);
}

TEST(FaultInjectingHttpClientTest, ResetMidUploadConsumesPartOfTheBody) {
  const std::string payload = Pattern(100000);
  FakeHttpClient fake("ok");
  FaultInjectingHttpClient client(&fake, {.seed = 3, .rates = {.reset_mid_upload = 1}});
  size_t offset = 0;
  HttpRequest request;
  request.method = "PUT";
  request.url = "http://s3.local/b/k";
  request.body = RequestBody::FromSource(
      [&](std::span<char> buffer) -> Result<size_t> {
        size_t n = std::min(buffer.size(), payload.size() - offset);
        std::memcpy(buffer.data(), payload.data() + offset, n);
        offset += n;
        return n;
      },
      static_cast<int64_t>(payload.size()),
      [&offset] {
        offset = 0;
        return Status::OK();
      });
  EXPECT_THAT(client.Send(request, ResponseBody::Collect(10)),
              StatusIs(StatusCode::kUnavailable, HasSubstr("request body bytes")));
  EXPECT_LT(offset, payload.size());
  EXPECT_EQ(fake.calls(), 0);
  EXPECT_EQ(client.counts().resets_mid_upload, 1u);

  // The caller rewinds and tries again; this time it goes through whole.
  client.SetRates({});
  ASSERT_OK(request.body.Rewind());
  ASSERT_OK(client.Send(request, ResponseBody::Collect(10)));
  EXPECT_EQ(fake.last_request_body(), payload);

  // A request without a body cannot be reset mid-upload: it passes.
  client.SetRates({.reset_mid_upload = 1});
  ASSERT_OK(client.Send(Get(), ResponseBody::Collect(10)));
  EXPECT_EQ(client.counts().resets_mid_upload, 1u);
}

TEST(FaultInjectingHttpClientTest, ResetMidBodyDeliversAPrefixThenFails) {
  const std::string body = Pattern(100000);
  FakeHttpClient fake(body);
  FaultInjectingHttpClient client(&fake, {.seed = 11, .rates = {.reset_mid_body = 1}});
  for (int i = 0; i < 20; ++i) {
    Fetched got = Stream(client, Get());
    EXPECT_THAT(got.result, StatusIs(StatusCode::kUnavailable, HasSubstr("reply body bytes")));
    EXPECT_LT(got.bytes.size(), body.size());
    EXPECT_EQ(got.bytes, body.substr(0, got.bytes.size()));
  }
  EXPECT_EQ(client.counts().resets_mid_body, 20u);
  EXPECT_THAT(client.Send(Get(), ResponseBody::Collect(body.size())),
              StatusIs(StatusCode::kUnavailable));
}

TEST(FaultInjectingHttpClientTest, TruncationSucceedsWithAShortBody) {
  const std::string body = Pattern(100000);
  FakeHttpClient fake(body);
  FaultInjectingHttpClient client(&fake, {.seed = 5, .rates = {.truncate = 1}});
  Fetched got = Stream(client, Get());
  ASSERT_OK(got.result);
  EXPECT_EQ(got.result->status_code, 200);
  // The headers still promise the whole body: only an end-to-end check notices.
  EXPECT_EQ(got.result->headers.Get("Content-Length").value_or(""), "100000");
  EXPECT_LT(got.bytes.size(), body.size());
  EXPECT_EQ(got.bytes, body.substr(0, got.bytes.size()));
  EXPECT_EQ(got.result->body_bytes, got.bytes.size());
  ASSERT_OK_AND_ASSIGN(HttpResponse collected,
                       client.Send(Get(), ResponseBody::Collect(body.size())));
  EXPECT_LT(collected.body.size(), body.size());
  EXPECT_EQ(collected.body, body.substr(0, collected.body.size()));
  EXPECT_EQ(client.counts().truncations, 2u);
}

// Outcome of each of `n` requests: "ok", "503", "reset", "trunc".
std::vector<std::string> Outcomes(uint64_t seed, int n) {
  const std::string body = Pattern(5000);
  FakeHttpClient fake(body);
  FaultInjectingHttpClient client(
      &fake,
      {.seed = seed,
       .rates = {.slow_down = 0.1, .reset_before = 0.1, .reset_mid_body = 0.1, .truncate = 0.1}});
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    Fetched got = Stream(client, Get());
    if (!got.result.ok()) {
      out.push_back("reset@" + std::to_string(got.bytes.size()));
    } else if (got.result->status_code == 503) {
      out.push_back("503");
    } else if (got.bytes.size() < body.size()) {
      out.push_back("trunc@" + std::to_string(got.bytes.size()));
    } else {
      out.push_back("ok");
    }
  }
  return out;
}

TEST(FaultInjectingHttpClientTest, SameSeedSameFaults) {
  std::vector<std::string> a = Outcomes(42, 200);
  EXPECT_EQ(a, Outcomes(42, 200));
  EXPECT_NE(a, Outcomes(43, 200));
  int ok = static_cast<int>(std::count(a.begin(), a.end(), "ok"));
  EXPECT_GT(ok, 200 * 4 / 10);  // 60% expected
  EXPECT_LT(ok, 200 * 8 / 10);
}

TEST(FaultInjectingHttpClientTest, ObservedRateMatchesConfiguredRate) {
  FakeHttpClient fake("x");
  FaultInjectingHttpClient client(&fake, {.seed = 9, .rates = {.slow_down = 0.1}});
  for (int i = 0; i < 5000; ++i) ASSERT_OK(client.Send(Get(), ResponseBody::Collect(1000)));
  FaultCounts counts = client.counts();
  EXPECT_EQ(counts.requests, 5000u);
  EXPECT_GT(counts.slow_downs, 400u);  // 500 expected; binomial sd ≈ 21
  EXPECT_LT(counts.slow_downs, 600u);
}

TEST(FaultInjectingHttpClientTest, IneligibleRequestsAreSpared) {
  FakeHttpClient fake("x");
  FaultInjectingHttpClient client(
      &fake, {.rates = {.reset_before = 1},
              .eligible = [](const HttpRequest& r) { return r.method != "DELETE"; }});
  HttpRequest del = Get();
  del.method = "DELETE";
  EXPECT_OK(client.Send(del, ResponseBody::Collect(10)));
  EXPECT_THAT(client.Send(Get(), ResponseBody::Collect(10)), StatusIs(StatusCode::kUnavailable));
}

// The injector over the real client and server, with a retry loop of the kind the transfer
// engine runs: every fault is survivable and the bytes come out identical.
TEST(FaultInjectingHttpClientTest, RetriesOverTheRealClientGetIdenticalBytes) {
  ::cairn::testing::Watchdog watchdog(std::chrono::seconds(30));
  const std::string body = Pattern(3 * 1024 * 1024 + 5);
  auto server = ::cairn::testing::HttpTestServer::Start(
      [&body](::cairn::testing::HttpTestServer::Exchange& ex) { ex.Respond(200, body); });
  ASSERT_OK(server);
  ASSERT_OK_AND_ASSIGN(auto curl, CurlHttpClient::Create({}));
  FaultInjectingHttpClient client(
      curl.get(),
      {.seed = 2024,
       .rates = {
           .slow_down = 0.15, .reset_before = 0.1, .reset_mid_body = 0.15, .truncate = 0.15}});
  HttpRequest request = Get();
  request.url = (*server)->Url("/obj");
  for (int object = 0; object < 10; ++object) {
    std::string got;
    int attempts = 0;
    while (true) {
      ASSERT_LT(++attempts, 50);
      Fetched fetched = Stream(client, request);
      if (!fetched.result.ok()) {
        ASSERT_EQ(fetched.result.status().code(), StatusCode::kUnavailable);
        continue;
      }
      if (HttpStatusToStatus(fetched.result->status_code, "GET").code() ==
          StatusCode::kUnavailable) {
        continue;
      }
      std::optional<std::string_view> length = fetched.result->headers.Get("Content-Length");
      if (!length || *length != std::to_string(fetched.bytes.size())) continue;  // truncated
      got = std::move(fetched.bytes);
      break;
    }
    EXPECT_TRUE(got == body);
  }
  FaultCounts counts = client.counts();
  EXPECT_GT(counts.faults(), 0u);
  EXPECT_GT(counts.requests, 10u);
}

}  // namespace
}  // namespace cairn::http
