#include "cairn/http/curl_http_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "cairn/testing/http_test_server.h"
#include "cairn/testing/status_matchers.h"
#include "cairn/testing/watchdog.h"

namespace cairn::http {
namespace {

using ::cairn::testing::HttpTestServer;
using ::cairn::testing::StatusIs;
using ::cairn::testing::Watchdog;
using ::testing::HasSubstr;
using ::testing::Not;
using Exchange = HttpTestServer::Exchange;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr size_t kMiB = 1024 * 1024;

// Test bodies are the byte sequence i % 251 (a prime, so a shifted or repeated piece shows).
std::string Pattern(uint64_t offset, size_t size) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>((offset + i) % 251);
  return out;
}

// Checks pieces against the pattern quickly: a window of the pattern shifted by offset % 251.
class PatternChecker {
 public:
  PatternChecker() : reference_(Pattern(0, 251 + 4 * kMiB)) {}
  bool Matches(uint64_t offset, std::string_view piece) const {
    if (piece.size() > 4 * kMiB) return false;
    return std::memcmp(piece.data(), reference_.data() + offset % 251, piece.size()) == 0;
  }

 private:
  std::string reference_;
};

std::unique_ptr<HttpTestServer> StartServer(HttpTestServer::Handler handler) {
  Result<std::unique_ptr<HttpTestServer>> server = HttpTestServer::Start(std::move(handler));
  EXPECT_OK(server);
  return server.ok() ? std::move(server).value() : nullptr;
}

std::unique_ptr<CurlHttpClient> MakeClient(CurlHttpClientOptions options = {}) {
  Result<std::unique_ptr<CurlHttpClient>> client = CurlHttpClient::Create(options);
  EXPECT_OK(client);
  return client.ok() ? std::move(client).value() : nullptr;
}

HttpRequest Get(std::string url) {
  HttpRequest request;
  request.method = "GET";
  request.url = std::move(url);
  return request;
}

// A port on 127.0.0.1 with nothing listening: bound (so no one else takes it) but not listening.
class ClosedPort {
 public:
  ClosedPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
  }
  ~ClosedPort() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// Streams `total` pattern bytes with Content-Length, in 1 MiB writes; `sent` follows progress.
void StreamPattern(Exchange& ex, uint64_t total, std::atomic<uint64_t>* sent) {
  if (!ex.WriteHead(200, {}, total)) return;
  const size_t chunk_size = 251 * 4096;  // a multiple of 251: every chunk is the same bytes
  const std::string chunk = Pattern(0, chunk_size);
  for (uint64_t done = 0; done < total;) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(chunk_size, total - done));
    if (!ex.Write(std::string_view(chunk).substr(0, n))) return;
    done += n;
    if (sent != nullptr) sent->store(done);
  }
}

TEST(CurlHttpClientTest, CreateRejectsBadOptions) {
  EXPECT_THAT(CurlHttpClient::Create({.max_connections_per_endpoint = 0}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(CurlHttpClient::Create({.buffer_size = 1024}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(CurlHttpClient::Create({.idle_timeout = milliseconds(-1)}),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(CurlHttpClientTest, GetSmallBodyAndHeadersAnyCase) {
  Watchdog watchdog(seconds(20));
  auto server = StartServer([](Exchange& ex) {
    EXPECT_EQ(ex.request().method, "GET");
    EXPECT_EQ(ex.request().target, "/bucket/key?list-type=2");
    EXPECT_EQ(ex.request().Header("x-custom").value_or(""), "v1");
    EXPECT_THAT(ex.request().Header("User-Agent").value_or(""), ::testing::StartsWith("cairn/"));
    ex.Respond(200, "hello", {{"X-Amz-Request-Id", "REQ123"}, {"ETag", "\"abc\""}});
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);
  HttpRequest request = Get(server->Url("/bucket/key?list-type=2"));
  request.headers = {{"X-Custom", "v1"}};
  ASSERT_OK_AND_ASSIGN(HttpResponse response, client->Send(request, ResponseBody::Collect(1024)));
  EXPECT_EQ(response.status_code, 200);
  EXPECT_EQ(response.body, "hello");
  EXPECT_EQ(response.body_bytes, 5u);
  EXPECT_EQ(response.headers.Get("x-amz-request-id").value_or(""), "REQ123");
  EXPECT_EQ(response.headers.Get("X-AMZ-REQUEST-ID").value_or(""), "REQ123");
  EXPECT_EQ(response.headers.Get("etag").value_or(""), "\"abc\"");
  EXPECT_EQ(response.headers.Get("content-length").value_or(""), "5");
  EXPECT_FALSE(response.headers.Has("x-missing"));
}

TEST(CurlHttpClientTest, LargeBodyStreamsToSinkWithBoundedBuffering) {
  Watchdog watchdog(seconds(60));
  constexpr uint64_t kTotal = 64 * kMiB;
  std::atomic<uint64_t> sent{0};
  auto server = StartServer([&sent](Exchange& ex) { StreamPattern(ex, kTotal, &sent); });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);

  PatternChecker checker;
  uint64_t received = 0;
  uint64_t pieces = 0;
  size_t largest_piece = 0;
  uint64_t largest_lead = 0;  // how far the server was ahead of the sink: bytes in flight
  bool bytes_ok = true;
  bool headers_first = false;
  auto on_headers = [&](const HttpResponse& head) {
    headers_first = received == 0 && head.status_code == 200;
    return Status::OK();
  };
  auto sink = [&](std::string_view piece) {
    bytes_ok = bytes_ok && checker.Matches(received, piece);
    received += piece.size();
    ++pieces;
    largest_piece = std::max(largest_piece, piece.size());
    uint64_t server_sent = sent.load();
    if (server_sent > received) largest_lead = std::max(largest_lead, server_sent - received);
    return Status::OK();
  };
  ASSERT_OK_AND_ASSIGN(HttpResponse response, client->Send(Get(server->Url("/big")),
                                                           ResponseBody::Stream(sink, on_headers)));
  EXPECT_EQ(response.status_code, 200);
  EXPECT_TRUE(response.body.empty());
  EXPECT_EQ(received, kTotal);
  EXPECT_EQ(response.body_bytes, kTotal);
  EXPECT_TRUE(bytes_ok);
  EXPECT_TRUE(headers_first);
  // Delivered piece by piece as it arrives, never more than the receive buffer at once, and the
  // server is never far ahead (socket buffers only): nothing holds the whole body.
  EXPECT_GE(pieces, kTotal / (512 * 1024));
  EXPECT_LE(largest_piece, 512 * 1024u);
  EXPECT_LT(largest_lead, 32 * kMiB);
}

TEST(CurlHttpClientTest, PutSourceOfKnownLength) {
  Watchdog watchdog(seconds(20));
  const std::string payload = Pattern(0, 3 * kMiB + 17);
  std::mutex mu;
  HttpTestServer::Request seen;
  auto server = StartServer([&](Exchange& ex) {
    {
      std::lock_guard lock(mu);
      seen = ex.request();
    }
    ex.Respond(200, "", {{"ETag", "\"e\""}});
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);

  size_t offset = 0;
  int pulls = 0;
  HttpRequest request;
  request.method = "PUT";
  request.url = server->Url("/b/k");
  request.body = RequestBody::FromSource(
      [&](std::span<char> buffer) -> Result<size_t> {
        ++pulls;
        size_t n = std::min({buffer.size(), payload.size() - offset, size_t{100 * 1024}});
        std::memcpy(buffer.data(), payload.data() + offset, n);
        offset += n;
        return n;
      },
      static_cast<int64_t>(payload.size()));
  ASSERT_OK_AND_ASSIGN(HttpResponse response, client->Send(request, ResponseBody::Collect(0)));
  EXPECT_EQ(response.status_code, 200);
  std::lock_guard lock(mu);
  EXPECT_EQ(seen.method, "PUT");
  EXPECT_FALSE(seen.chunked);
  EXPECT_EQ(seen.Header("Content-Length").value_or(""), std::to_string(payload.size()));
  // Large bodies ask first, so a rejection costs one round trip, not the body.
  EXPECT_EQ(seen.Header("Expect").value_or(""), "100-continue");
  EXPECT_TRUE(seen.body == payload);
  EXPECT_GT(pulls, 30);
}

TEST(CurlHttpClientTest, PutSourceOfUnknownLengthIsChunked) {
  Watchdog watchdog(seconds(20));
  const std::string payload = Pattern(7, 2 * kMiB + 500);
  std::mutex mu;
  HttpTestServer::Request seen;
  auto server = StartServer([&](Exchange& ex) {
    {
      std::lock_guard lock(mu);
      seen = ex.request();
    }
    ex.Respond(201, "");
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);

  size_t offset = 0;
  HttpRequest request;
  request.method = "POST";
  request.url = server->Url("/upload");
  request.body = RequestBody::FromSource(
      [&](std::span<char> buffer) -> Result<size_t> {
        size_t n = std::min({buffer.size(), payload.size() - offset, size_t{70000}});
        std::memcpy(buffer.data(), payload.data() + offset, n);
        offset += n;
        return n;
      },
      RequestBody::kUnknownLength);
  ASSERT_OK_AND_ASSIGN(HttpResponse response, client->Send(request, ResponseBody::Collect(0)));
  EXPECT_EQ(response.status_code, 201);
  std::lock_guard lock(mu);
  EXPECT_EQ(seen.method, "POST");
  EXPECT_TRUE(seen.chunked);
  EXPECT_FALSE(seen.Header("Content-Length").has_value());
  EXPECT_TRUE(seen.body == payload);
}

TEST(CurlHttpClientTest, SmallBodiesAndEmptyPostSendNoExpect) {
  Watchdog watchdog(seconds(20));
  std::mutex mu;
  std::vector<HttpTestServer::Request> seen;
  auto server = StartServer([&](Exchange& ex) {
    {
      std::lock_guard lock(mu);
      seen.push_back(ex.request());
    }
    ex.Respond(200, "");
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);

  HttpRequest put;
  put.method = "PUT";
  put.url = server->Url("/small");
  put.headers = {{"Content-Length", "999"}, {"Expect", "100-continue"}};  // ignored: derived
  const std::string bytes = "tiny body";
  put.body = RequestBody::FromBytes(bytes);
  ASSERT_OK(client->Send(put, ResponseBody::Collect(0)));
  HttpRequest post;
  post.method = "POST";
  post.url = server->Url("/b/k?uploads");
  ASSERT_OK(client->Send(post, ResponseBody::Collect(0)));
  HttpRequest del;
  del.method = "DELETE";
  del.url = server->Url("/b/k");
  ASSERT_OK(client->Send(del, ResponseBody::Collect(0)));

  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].body, bytes);
  EXPECT_EQ(seen[0].Header("Content-Length").value_or(""), "9");
  EXPECT_FALSE(seen[0].Header("Expect").has_value());
  EXPECT_EQ(seen[1].method, "POST");
  EXPECT_EQ(seen[1].Header("Content-Length").value_or(""), "0");
  EXPECT_FALSE(seen[1].Header("Expect").has_value());
  EXPECT_EQ(seen[2].method, "DELETE");
  EXPECT_TRUE(seen[2].body.empty());
}

TEST(CurlHttpClientTest, SourceThatEndsEarlyOrFailsStopsTheRequest) {
  Watchdog watchdog(seconds(20));
  auto server = StartServer([](Exchange& ex) { ex.Respond(200, ""); });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);

  int calls = 0;
  HttpRequest request;
  request.method = "PUT";
  request.url = server->Url("/k");
  request.body = RequestBody::FromSource(
      [&calls](std::span<char> buffer) -> Result<size_t> {
        if (calls++ > 0) return size_t{0};
        std::memset(buffer.data(), 'x', 500);
        return size_t{500};
      },
      1000);
  EXPECT_THAT(client->Send(request, ResponseBody::Collect(0)),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("ended after 500 of 1000")));

  request.body = RequestBody::FromSource(
      [](std::span<char>) -> Result<size_t> { return DataLossError("disk says no"); }, 1000);
  EXPECT_THAT(client->Send(request, ResponseBody::Collect(0)),
              StatusIs(StatusCode::kDataLoss, "disk says no"));
}

TEST(CurlHttpClientTest, SequentialRequestsReuseOneConnection) {
  Watchdog watchdog(seconds(30));
  auto server = StartServer([](Exchange& ex) { ex.Respond(200, ex.request().target); });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient({.max_connections_per_endpoint = 4});
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 100; ++i) {
    std::string path = "/obj" + std::to_string(i);
    ASSERT_OK_AND_ASSIGN(HttpResponse response,
                         client->Send(Get(server->Url(path)), ResponseBody::Collect(100)));
    ASSERT_EQ(response.body, path);
  }
  EXPECT_EQ(server->requests(), 100);
  EXPECT_EQ(server->connections_accepted(), 1);
  EXPECT_EQ(client->ConnectionsForEndpoint(server->Url("/")), 1);
}

TEST(CurlHttpClientTest, ConnectionClosedByServerIsReplacedTransparently) {
  Watchdog watchdog(seconds(20));
  auto server = StartServer([](Exchange& ex) {
    ex.Respond(200, "x", {{"Connection", "close"}});
    ex.CloseAfter();
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient({.max_connections_per_endpoint = 1});
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK(client->Send(Get(server->Url("/x")), ResponseBody::Collect(10)));
  }
  EXPECT_EQ(server->connections_accepted(), 3);
  EXPECT_EQ(client->ConnectionsForEndpoint(server->Url("/")), 1);
}

TEST(CurlHttpClientTest, ConcurrentCallersNeverExceedThePoolBound) {
  Watchdog watchdog(seconds(30));
  constexpr int kMaxConnections = 3;
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  auto server = StartServer([&](Exchange& ex) {
    int now = in_flight.fetch_add(1) + 1;
    int seen = max_in_flight.load();
    while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
    }
    ex.Pause(milliseconds(15));
    in_flight.fetch_sub(1);
    ex.Respond(200, "ok");
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient({.max_connections_per_endpoint = kMaxConnections});
  ASSERT_NE(client, nullptr);

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 10; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) {
        if (!client->Send(Get(server->Url("/c")), ResponseBody::Collect(10)).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(server->requests(), 50);
  EXPECT_LE(max_in_flight.load(), kMaxConnections);
  EXPECT_GE(max_in_flight.load(), 2);  // the callers did overlap
  EXPECT_LE(server->connections_accepted(), kMaxConnections);
  EXPECT_LE(server->max_open_connections(), kMaxConnections);
  EXPECT_EQ(client->ConnectionsForEndpoint(server->Url("/")), server->connections_accepted());
}

TEST(CurlHttpClientTest, WaitingForABusyPoolIsBounded) {
  Watchdog watchdog(seconds(20));
  std::atomic<bool> release{false};
  auto server = StartServer([&](Exchange& ex) {
    while (!release.load() && ex.Pause(milliseconds(5))) {
    }
    ex.Respond(200, "");
  });
  ASSERT_NE(server, nullptr);
  auto client =
      MakeClient({.max_connections_per_endpoint = 1, .pool_wait_timeout = milliseconds(200)});
  ASSERT_NE(client, nullptr);
  std::thread holder(
      [&] { EXPECT_OK(client->Send(Get(server->Url("/hold")), ResponseBody::Collect(0))); });
  while (server->requests() == 0) std::this_thread::sleep_for(milliseconds(1));
  Clock::time_point start = Clock::now();
  EXPECT_THAT(client->Send(Get(server->Url("/wait")), ResponseBody::Collect(0)),
              StatusIs(StatusCode::kUnavailable, HasSubstr("busy")));
  EXPECT_LT(Clock::now() - start, seconds(3));
  release = true;
  holder.join();
}

TEST(CurlHttpClientTest, ConnectionRefusedIsUnavailable) {
  Watchdog watchdog(seconds(20));
  ClosedPort closed;
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);
  std::string url = "http://127.0.0.1:" + std::to_string(closed.port()) + "/b/k";
  Result<HttpResponse> result = client->Send(Get(url), ResponseBody::Collect(0));
  EXPECT_THAT(result, StatusIs(StatusCode::kUnavailable, HasSubstr("GET " + url + ": ")));
  EXPECT_EQ(result.status().detail().sys_errno, ECONNREFUSED);
}

TEST(CurlHttpClientTest, StalledServerFailsWithinTheIdleTimeout) {
  Watchdog watchdog(seconds(30));
  auto server = StartServer([](Exchange& ex) {
    if (ex.request().target == "/mid-body") {
      ex.WriteHead(200, {}, 1000);
      ex.Write("0123456789");
    }
    ex.Pause(seconds(20));  // until the server stops
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient({.idle_timeout = milliseconds(1000)});
  ASSERT_NE(client, nullptr);
  for (const char* path : {"/before-headers", "/mid-body"}) {
    Clock::time_point start = Clock::now();
    EXPECT_THAT(client->Send(Get(server->Url(path)), ResponseBody::Collect(10000)),
                StatusIs(StatusCode::kUnavailable, HasSubstr("idle timeout")))
        << path;
    Clock::duration elapsed = Clock::now() - start;
    EXPECT_GE(elapsed, milliseconds(900)) << path;
    EXPECT_LT(elapsed, milliseconds(3500)) << path;  // curl checks progress about once a second
  }
}

TEST(CurlHttpClientTest, OverallDeadlineBoundsATricklingReply) {
  Watchdog watchdog(seconds(20));
  auto server = StartServer([](Exchange& ex) {
    ex.WriteHead(200, {}, 1000);
    // One byte every 50 ms: never idle, never done.
    for (int i = 0; i < 1000 && ex.Write("x") && ex.Pause(milliseconds(50)); ++i) {
    }
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient({.idle_timeout = milliseconds(1000)});
  ASSERT_NE(client, nullptr);
  HttpRequest request = Get(server->Url("/slow"));
  request.timeout = milliseconds(500);
  Clock::time_point start = Clock::now();
  Result<HttpResponse> result = client->Send(request, ResponseBody::Collect(10000));
  EXPECT_THAT(result.status(), StatusIs(StatusCode::kUnavailable, HasSubstr("deadline")))
      << result.status();
  EXPECT_LT(Clock::now() - start, seconds(3));
}

TEST(CurlHttpClientTest, SinkErrorStopsTheTransfer) {
  Watchdog watchdog(seconds(30));
  constexpr uint64_t kTotal = 64 * kMiB;
  std::atomic<uint64_t> sent{0};
  auto server = StartServer([&sent](Exchange& ex) { StreamPattern(ex, kTotal, &sent); });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);
  uint64_t received = 0;
  auto sink = [&received](std::string_view piece) {
    received += piece.size();
    if (received >= kMiB) return DataLossError("md5 mismatch in part 1");
    return Status::OK();
  };
  EXPECT_THAT(client->Send(Get(server->Url("/big")), ResponseBody::Stream(sink)),
              StatusIs(StatusCode::kDataLoss, "md5 mismatch in part 1"));
  EXPECT_LT(received, kMiB + 512 * 1024);
  server->Stop();  // the handler's writes fail once the client has hung up
  EXPECT_LT(sent.load(), kTotal);
  // The handle (its connection closed) still works.
  auto server2 = StartServer([](Exchange& ex) { ex.Respond(200, "fine"); });
  ASSERT_NE(server2, nullptr);
  ASSERT_OK_AND_ASSIGN(HttpResponse response,
                       client->Send(Get(server2->Url("/")), ResponseBody::Collect(10)));
  EXPECT_EQ(response.body, "fine");
}

TEST(CurlHttpClientTest, HeadersCallbackCanRejectBeforeTheBody) {
  Watchdog watchdog(seconds(20));
  auto server = StartServer([](Exchange& ex) { ex.Respond(200, "body", {{"ETag", "\"new\""}}); });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);
  bool sink_called = false;
  auto on_headers = [](const HttpResponse& head) {
    if (head.headers.Get("etag") != "\"old\"") return FailedPreconditionError("object changed");
    return Status::OK();
  };
  auto sink = [&sink_called](std::string_view) {
    sink_called = true;
    return Status::OK();
  };
  EXPECT_THAT(client->Send(Get(server->Url("/k")), ResponseBody::Stream(sink, on_headers)),
              StatusIs(StatusCode::kFailedPrecondition, "object changed"));
  EXPECT_FALSE(sink_called);
}

TEST(CurlHttpClientTest, CollectedBodyIsCapped) {
  Watchdog watchdog(seconds(20));
  auto server = StartServer([](Exchange& ex) { ex.Respond(200, std::string(2000, 'z')); });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);
  EXPECT_THAT(client->Send(Get(server->Url("/k")), ResponseBody::Collect(1999)),
              StatusIs(StatusCode::kResourceExhausted, HasSubstr("1999 bytes")));
  ASSERT_OK_AND_ASSIGN(HttpResponse response,
                       client->Send(Get(server->Url("/k")), ResponseBody::Collect(2000)));
  EXPECT_EQ(response.body.size(), 2000u);
}

TEST(CurlHttpClientTest, ErrorRepliesAreRepliesAndTheirBodyIsKeptWhenStreaming) {
  Watchdog watchdog(seconds(20));
  const std::string xml = "<Error><Code>NoSuchKey</Code></Error>";
  auto server = StartServer([&xml](Exchange& ex) { ex.Respond(404, xml); });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);
  bool sink_called = false;
  auto sink = [&sink_called](std::string_view) {
    sink_called = true;
    return Status::OK();
  };
  ASSERT_OK_AND_ASSIGN(HttpResponse response,
                       client->Send(Get(server->Url("/k")), ResponseBody::Stream(sink)));
  EXPECT_EQ(response.status_code, 404);
  EXPECT_EQ(response.body, xml);
  EXPECT_FALSE(sink_called);
  EXPECT_THAT(HttpStatusToStatus(response.status_code, "GET /k"),
              StatusIs(StatusCode::kNotFound, "GET /k: Not Found"));
}

TEST(CurlHttpClientTest, HeadHasHeadersButNoBody) {
  Watchdog watchdog(seconds(20));
  auto server = StartServer([](Exchange& ex) {
    ex.WriteHead(200, {{"ETag", "\"e\""}}, 12345);  // HEAD: the length, no body
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);
  HttpRequest request = Get(server->Url("/k"));
  request.method = "HEAD";
  ASSERT_OK_AND_ASSIGN(HttpResponse response, client->Send(request, ResponseBody::Collect(0)));
  EXPECT_EQ(response.status_code, 200);
  EXPECT_EQ(response.headers.Get("Content-Length").value_or(""), "12345");
  EXPECT_EQ(response.body_bytes, 0u);
  // And the connection is still good for the next request.
  ASSERT_OK(client->Send(request, ResponseBody::Collect(0)));
  EXPECT_EQ(server->connections_accepted(), 1);
}

TEST(CurlHttpClientTest, ReplyCutShortIsUnavailable) {
  Watchdog watchdog(seconds(20));
  auto server = StartServer([](Exchange& ex) {
    ex.WriteHead(200, {}, 1000);
    ex.Write(std::string(500, 'a'));
    ex.CloseAfter();
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);
  uint64_t received = 0;
  auto sink = [&received](std::string_view piece) {
    received += piece.size();
    return Status::OK();
  };
  EXPECT_THAT(client->Send(Get(server->Url("/k")), ResponseBody::Stream(sink)),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(received, 500u);
}

// ResponseBody::StreamInto: the body lands in the caller's buffer, straight from the connection.
TEST(CurlHttpClientTest, DirectReceiveLandsTheBodyInTheCallersBuffer) {
  Watchdog watchdog(seconds(60));
  constexpr uint64_t kTotal = 8 * kMiB + 123;
  auto server = StartServer([](Exchange& ex) {
    if (ex.request().target == "/missing") {
      ex.Respond(404, "<Error><Code>NoSuchKey</Code></Error>", {{"X-Amz-Request-Id", "R1"}});
      return;
    }
    StreamPattern(ex, kTotal, nullptr);
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient({.max_connections_per_endpoint = 2});
  ASSERT_NE(client, nullptr);
  std::vector<char> buffer(kTotal + 7);
  for (int i = 0; i < 5; ++i) {
    uint64_t received = 0;
    bool in_place = true;
    bool headers_first = false;
    auto sink = [&](std::string_view piece) {
      in_place = in_place && piece.data() == buffer.data() + received;
      received += piece.size();
      return Status::OK();
    };
    auto on_headers = [&](const HttpResponse& head) {
      headers_first = received == 0 && head.status_code == 200 &&
                      head.headers.Get("content-length").value_or("") == std::to_string(kTotal);
      return Status::OK();
    };
    ASSERT_OK_AND_ASSIGN(
        HttpResponse response,
        client->Send(Get(server->Url("/big")),
                     ResponseBody::StreamInto(std::span<char>(buffer), sink, on_headers)));
    EXPECT_EQ(response.status_code, 200);
    EXPECT_EQ(received, kTotal);
    EXPECT_EQ(response.body_bytes, kTotal);
    EXPECT_TRUE(in_place);
    EXPECT_TRUE(headers_first);
    EXPECT_EQ(std::string_view(buffer.data(), kTotal), Pattern(0, kTotal));
  }
  // An error reply is a reply, its document kept; the connection goes on serving.
  auto never = [](std::string_view) { return InternalError("no 2xx body expected"); };
  ASSERT_OK_AND_ASSIGN(HttpResponse missing,
                       client->Send(Get(server->Url("/missing")),
                                    ResponseBody::StreamInto(std::span<char>(buffer), never)));
  EXPECT_EQ(missing.status_code, 404);
  EXPECT_EQ(missing.body, "<Error><Code>NoSuchKey</Code></Error>");
  EXPECT_EQ(missing.headers.Get("x-amz-request-id").value_or(""), "R1");
  EXPECT_EQ(server->connections_accepted(), 1);
}

TEST(CurlHttpClientTest, DirectReceiveFailuresAreClear) {
  Watchdog watchdog(seconds(60));
  auto server = StartServer([](Exchange& ex) {
    const std::string& target = ex.request().target;
    if (target == "/cut") {
      ex.WriteHead(200, {}, 1000);
      ex.Write(std::string(500, 'a'));
      ex.CloseAfter();
    } else if (target == "/long") {
      ex.Respond(200, std::string(2000, 'b'));
    } else if (target == "/close") {
      ex.Respond(200, "closing", {{"Connection", "close"}});
      ex.CloseAfter();
    } else if (target == "/stall") {
      ex.WriteHead(200, {}, 1000);
      ex.Write("0123456789");
      ex.Pause(seconds(20));
    } else {
      ex.Respond(200, "fine");
    }
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient({.max_connections_per_endpoint = 1, .idle_timeout = milliseconds(1000)});
  ASSERT_NE(client, nullptr);
  std::vector<char> buffer(1000);
  uint64_t received = 0;
  auto sink = [&received](std::string_view piece) {
    received += piece.size();
    return Status::OK();
  };
  auto into = [&] { return ResponseBody::StreamInto(std::span<char>(buffer), sink); };
  EXPECT_THAT(client->Send(Get(server->Url("/cut")), into()),
              StatusIs(StatusCode::kUnavailable, HasSubstr("500 of 1000")));
  EXPECT_EQ(received, 500u);
  EXPECT_THAT(client->Send(Get(server->Url("/long")), into()),
              StatusIs(StatusCode::kDataLoss, HasSubstr("more than the 1000")));
  // A reply that closes its connection, then one on a new connection.
  received = 0;
  ASSERT_OK(client->Send(Get(server->Url("/close")), into()));
  ASSERT_OK(client->Send(Get(server->Url("/fine")), into()));
  EXPECT_EQ(received, 11u);
  EXPECT_EQ(std::string_view(buffer.data(), 4), "fine");
  Clock::time_point start = Clock::now();
  EXPECT_THAT(client->Send(Get(server->Url("/stall")), into()),
              StatusIs(StatusCode::kUnavailable, HasSubstr("idle timeout")));
  EXPECT_LT(Clock::now() - start, milliseconds(3500));
}

TEST(CurlHttpClientTest, DirectReceiveGivesWayToCurlForRepliesWithoutLength) {
  Watchdog watchdog(seconds(20));
  auto server = StartServer([](Exchange& ex) {
    ex.WriteHead(200, {}, std::nullopt);  // no Content-Length: the body ends with the connection
    ex.Write("until close");
    ex.CloseAfter();
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);
  std::vector<char> buffer(100);
  std::string got;
  auto sink = [&got](std::string_view piece) {
    got += piece;
    return Status::OK();
  };
  EXPECT_THAT(
      client->Send(Get(server->Url("/x")), ResponseBody::StreamInto(std::span<char>(buffer), sink)),
      StatusIs(StatusCode::kUnavailable, HasSubstr("Content-Length")));
  // Asked again, the same request goes through curl, which reads such replies.
  ASSERT_OK(client->Send(Get(server->Url("/x")),
                         ResponseBody::StreamInto(std::span<char>(buffer), sink)));
  EXPECT_EQ(got, "until close");
}

TEST(CurlHttpClientTest, RejectsMalformedRequests) {
  auto client = MakeClient();
  ASSERT_NE(client, nullptr);
  HttpRequest request = Get("http://127.0.0.1:1/k");
  request.method = "G ET";
  EXPECT_THAT(client->Send(request, ResponseBody::Collect(0)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("method")));
  EXPECT_THAT(client->Send(Get("ftp://127.0.0.1/k"), ResponseBody::Collect(0)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("scheme")));
  EXPECT_THAT(client->Send(Get("no url at all"), ResponseBody::Collect(0)),
              StatusIs(StatusCode::kInvalidArgument));
  request = Get("http://127.0.0.1:1/k");
  request.headers = {{"X-Evil", "a\r\nInjected: yes"}};
  Result<HttpResponse> injected = client->Send(request, ResponseBody::Collect(0));
  EXPECT_THAT(injected, StatusIs(StatusCode::kInvalidArgument, HasSubstr("X-Evil")));
  EXPECT_THAT(injected.status().message(), Not(HasSubstr("Injected")));
  request = Get("http://127.0.0.1:1/k");
  request.method = "HEAD";
  request.body = RequestBody::FromBytes("x");
  EXPECT_THAT(client->Send(request, ResponseBody::Collect(0)),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("HEAD")));
}

// Presigned URLs carry their signature in the query, and Authorization headers carry one too:
// neither may reach an error message, whatever the failure.
TEST(CurlHttpClientTest, ErrorMessagesNeverShowQueryStringsOrAuthorization) {
  Watchdog watchdog(seconds(30));
  auto server = StartServer([](Exchange& ex) {
    if (ex.request().target.starts_with("/stall")) {
      ex.Pause(seconds(20));
    } else if (ex.request().target.starts_with("/cut")) {
      ex.WriteHead(200, {}, 100);
      ex.Write("abc");
      ex.CloseAfter();
    } else {
      ex.Respond(200, std::string(100, 'b'));
    }
  });
  ASSERT_NE(server, nullptr);
  ClosedPort closed;
  auto client = MakeClient({.idle_timeout = milliseconds(1000)});
  ASSERT_NE(client, nullptr);
  const std::string query =
      "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDSECRET%2F20240101&"
      "X-Amz-Signature=deadbeefSECRET&temp_url_sig=SECRETSIG";
  auto request_for = [&](std::string base) {
    HttpRequest request = Get(base + query);
    request.headers = {{"Authorization", "AWS4-HMAC-SHA256 Credential=AKID, Signature=SECRETAUTH"},
                       {"X-Auth-Token", "SECRETTOKEN"}};
    return request;
  };
  const std::string userinfo_url =
      "http://user:SECRETPASS@127.0.0.1:" + std::to_string(closed.port()) + "/refused";
  std::vector<std::pair<HttpRequest, ResponseBody>> cases = {
      {request_for(userinfo_url), ResponseBody::Collect(10)},
      {request_for(server->Url("/stall")), ResponseBody::Collect(10)},
      {request_for(server->Url("/cut")), ResponseBody::Collect(1000)},
      {request_for(server->Url("/big")), ResponseBody::Collect(10)},
  };
  for (const auto& [request, body] : cases) {
    Result<HttpResponse> result = client->Send(request, body);
    ASSERT_FALSE(result.ok()) << request.url;
    std::string text = result.status().ToString();
    EXPECT_THAT(text, Not(HasSubstr("SECRET"))) << text;
    EXPECT_THAT(text, Not(HasSubstr("?"))) << text;
    EXPECT_THAT(text, HasSubstr("GET http://")) << text;
  }
  // A path that is itself a secret (a Keep locator with a +A signature) is named as the caller
  // says.
  HttpRequest keep = Get("http://127.0.0.1:" + std::to_string(closed.port()) +
                         "/acbd18db4cc2f85cedef654fccc4a4d8+3+Adeadbeef@65f00000");
  keep.url_for_messages = "http://127.0.0.1/acbd18db4cc2f85cedef654fccc4a4d8+3";
  Result<HttpResponse> result = client->Send(keep, ResponseBody::Collect(0));
  EXPECT_THAT(result, StatusIs(StatusCode::kUnavailable, Not(HasSubstr("deadbeef"))));
}

}  // namespace
}  // namespace cairn::http
