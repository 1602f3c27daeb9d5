#include "cairn/httpd/http_server.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cairn/common/hash.h"
#include "cairn/http/curl_http_client.h"
#include "cairn/testing/status_matchers.h"
#include "cairn/testing/watchdog.h"

namespace cairn::httpd {
namespace {

using ::cairn::http::CurlHttpClient;
using ::cairn::http::HttpRequest;
using ::cairn::http::HttpResponse;
using ::cairn::http::RequestBody;
using ::cairn::http::ResponseBody;
using ::cairn::testing::StatusIs;
using ::cairn::testing::Watchdog;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr size_t kMiB = 1024 * 1024;

// Body bytes i % 251 (a prime, so a shifted or repeated piece shows in the hash).
std::string Pattern(uint64_t offset, size_t size) {
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>((offset + i) % 251);
  return out;
}

std::unique_ptr<HttpServer> StartServer(Handler handler, HttpServerOptions options = {}) {
  Result<std::unique_ptr<HttpServer>> server = HttpServer::Start(options, std::move(handler));
  EXPECT_OK(server);
  return server.ok() ? std::move(server).value() : nullptr;
}

std::unique_ptr<CurlHttpClient> MakeClient() {
  http::CurlHttpClientOptions options;
  options.idle_timeout = milliseconds(10'000);
  auto client = CurlHttpClient::Create(options);
  EXPECT_OK(client);
  return client.ok() ? std::move(client).value() : nullptr;
}

std::string Url(const HttpServer& server, std::string_view path) {
  return "http://127.0.0.1:" + std::to_string(server.port()) + std::string(path);
}

Result<HttpResponse> Send(CurlHttpClient& client, std::string method, std::string url,
                          RequestBody body = {}) {
  HttpRequest request;
  request.method = std::move(method);
  request.url = std::move(url);
  request.body = body;
  return client.Send(request, ResponseBody::Collect(256 * kMiB));
}

// Reads the whole request body in 1 MiB pieces, returning its MD5 hex and length.
std::pair<std::string, uint64_t> HashBody(ServerRequest& request) {
  Md5 md5;
  std::vector<char> buffer(kMiB);
  uint64_t total = 0;
  for (;;) {
    Result<size_t> n = request.body->Read(buffer);
    if (!n.ok()) return {"error: " + n.status().ToString(), total};
    if (*n == 0) break;
    md5.Update(buffer.data(), *n);
    total += *n;
  }
  return {HexEncode(md5.Finish()), total};
}

// A raw TCP connection to the server, for peers that misbehave.
class RawPeer {
 public:
  explicit RawPeer(uint16_t port) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawPeer() { close(fd_); }
  bool connected() const { return connected_; }
  void SendText(std::string_view text) { (void)!send(fd_, text.data(), text.size(), MSG_NOSIGNAL); }
  // Everything until the server closes (or `limit` passes).
  std::string ReadUntilClosed(milliseconds limit) {
    timeval tv{static_cast<time_t>(limit.count() / 1000),
               static_cast<suseconds_t>(limit.count() % 1000 * 1000)};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    std::string out;
    char buf[4096];
    for (;;) {
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        closed_ = n == 0 || errno == ECONNRESET;
        return out;
      }
      out.append(buf, static_cast<size_t>(n));
    }
  }
  bool closed() const { return closed_; }

 private:
  int fd_;
  bool connected_ = false;
  bool closed_ = false;
};

TEST(HttpServerTest, StartRejectsBadListenAddresses) {
  Handler h = [](ServerRequest&, ResponseWriter& w) { (void)w.Send(200, "", ""); };
  EXPECT_THAT(HttpServer::Start({.listen = "nonsense"}, h), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(HttpServer::Start({.listen = "127.0.0.1:99999"}, h),
              StatusIs(StatusCode::kInvalidArgument));
  auto first = StartServer(h);
  ASSERT_NE(first, nullptr);
  HttpServerOptions taken;
  taken.listen = "127.0.0.1:" + std::to_string(first->port());
  EXPECT_THAT(HttpServer::Start(taken, h), StatusIs(StatusCode::kUnavailable));
}

TEST(HttpServerTest, SmallRequestHeadersQueryAndHead) {
  Watchdog watchdog(seconds(60));
  auto server = StartServer([](ServerRequest& req, ResponseWriter& w) {
    w.SetHeader("X-Method", req.method);
    w.SetHeader("X-Path", req.path);
    w.SetHeader("X-Query", req.query);
    w.SetHeader("X-Auth", std::string(req.Header("authorization").value_or("none")));
    (void)w.Send(200, "text/plain", "hello " + req.path + "\n");
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  HttpRequest request;
  request.method = "GET";
  request.url = Url(*server, "/a/b?x=1&y=2");
  request.headers = {{"Authorization", "Bearer t0k"}};
  ASSERT_OK_AND_ASSIGN(HttpResponse r, client->Send(request, ResponseBody::Collect(1024)));
  EXPECT_EQ(r.status_code, 200);
  EXPECT_EQ(r.body, "hello /a/b\n");
  EXPECT_EQ(r.headers.Get("x-path"), "/a/b");
  EXPECT_EQ(r.headers.Get("x-query"), "x=1&y=2");
  EXPECT_EQ(r.headers.Get("x-auth"), "Bearer t0k");
  EXPECT_EQ(r.headers.Get("content-type"), "text/plain");

  ASSERT_OK_AND_ASSIGN(HttpResponse head, Send(*client, "HEAD", Url(*server, "/h")));
  EXPECT_EQ(head.status_code, 200);
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(head.headers.Get("content-length"), "9");  // "hello /h\n"
  EXPECT_EQ(head.headers.Get("x-method"), "HEAD");
}

TEST(HttpServerTest, LargeBodiesStreamBothWaysAndConnectionsAreReused) {
  Watchdog watchdog(seconds(120));
  constexpr uint64_t kSize = 64 * kMiB + 7;
  std::mutex mu;
  std::set<std::string> peers;
  auto server = StartServer([&](ServerRequest& req, ResponseWriter& w) {
    {
      std::lock_guard lock(mu);
      peers.insert(req.remote_address);
    }
    if (req.method == "PUT") {
      auto [md5, size] = HashBody(req);
      (void)w.Send(200, "text/plain", md5 + " " + std::to_string(size));
      return;
    }
    if (!w.Start(200, kSize).ok()) return;
    for (uint64_t off = 0; off < kSize;) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(kMiB, kSize - off));
      if (!w.Write(Pattern(off, n)).ok()) return;
      off += n;
    }
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  std::string expected_md5;
  {
    Md5 md5;
    for (uint64_t off = 0; off < kSize; off += kMiB) {
      md5.Update(Pattern(off, static_cast<size_t>(std::min<uint64_t>(kMiB, kSize - off))));
    }
    expected_md5 = HexEncode(md5.Finish());
  }
  for (int round = 0; round < 2; ++round) {
    // Upload streamed from a source (Expect: 100-continue, as curl sends for large bodies).
    uint64_t sent = 0;
    auto source = [&](std::span<char> out) -> Result<size_t> {
      size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), kSize - sent));
      std::string piece = Pattern(sent, n);
      std::copy(piece.begin(), piece.end(), out.begin());
      sent += n;
      return n;
    };
    ASSERT_OK_AND_ASSIGN(HttpResponse put,
                         Send(*client, "PUT", Url(*server, "/up"),
                              RequestBody::FromSource(source, static_cast<int64_t>(kSize))));
    EXPECT_EQ(put.status_code, 200);
    EXPECT_EQ(put.body, expected_md5 + " " + std::to_string(kSize));

    // Download streamed to a sink.
    Md5 md5;
    uint64_t received = 0;
    HttpRequest get;
    get.method = "GET";
    get.url = Url(*server, "/down");
    ASSERT_OK_AND_ASSIGN(HttpResponse r, client->Send(get, ResponseBody::Stream([&](auto piece) {
                                                        md5.Update(piece);
                                                        received += piece.size();
                                                        return Status::OK();
                                                      })));
    EXPECT_EQ(r.status_code, 200);
    EXPECT_EQ(received, kSize);
    EXPECT_EQ(HexEncode(md5.Finish()), expected_md5);
  }
  // Four requests, one connection.
  EXPECT_EQ(client->ConnectionsForEndpoint(Url(*server, "/")), 1);
  std::lock_guard lock(mu);
  EXPECT_EQ(peers.size(), 1u);
}

TEST(HttpServerTest, ChunkedRequestBody) {
  auto server = StartServer([](ServerRequest& req, ResponseWriter& w) {
    bool chunked = !req.content_length.has_value();
    auto [md5, size] = HashBody(req);
    (void)w.Send(200, "", md5 + " " + std::to_string(size) + (chunked ? " chunked" : ""));
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  const std::string data = Pattern(0, 3 * kMiB + 11);
  size_t pos = 0;
  auto source = [&](std::span<char> out) -> Result<size_t> {
    size_t n = std::min(out.size(), data.size() - pos);
    data.copy(out.data(), n, pos);
    pos += n;
    return n;
  };
  ASSERT_OK_AND_ASSIGN(HttpResponse r, Send(*client, "PUT", Url(*server, "/c"),
                                            RequestBody::FromSource(source, -1)));
  EXPECT_EQ(r.body, Md5Hex(data) + " " + std::to_string(data.size()) + " chunked");
}

TEST(HttpServerTest, BusyServerAnswers503AtOnce) {
  Watchdog watchdog(seconds(60));
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> started{0};
  HttpServerOptions options;
  options.worker_threads = 1;
  options.max_queued_requests = 1;
  auto server = StartServer(
      [&](ServerRequest& req, ResponseWriter& w) {
        if (req.path == "/block") {
          ++started;
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return release; });
        }
        (void)w.Send(200, "", "done");
      },
      options);
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  // One request runs, one waits in the queue.
  auto running =
      std::async(std::launch::async, [&] { return Send(*client, "GET", Url(*server, "/block")); });
  while (started.load() == 0) std::this_thread::sleep_for(milliseconds(5));
  auto queued =
      std::async(std::launch::async, [&] { return Send(*client, "GET", Url(*server, "/block")); });
  // The queued one is parsed but not running; give it time to reach the queue.
  std::this_thread::sleep_for(milliseconds(200));
  auto start = std::chrono::steady_clock::now();
  ASSERT_OK_AND_ASSIGN(HttpResponse busy, Send(*client, "GET", Url(*server, "/other")));
  EXPECT_EQ(busy.status_code, 503);
  EXPECT_EQ(busy.headers.Get("retry-after"), "1");
  EXPECT_LT(std::chrono::steady_clock::now() - start, milliseconds(2000));
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_OK_AND_ASSIGN(HttpResponse a, running.get());
  ASSERT_OK_AND_ASSIGN(HttpResponse b, queued.get());
  EXPECT_EQ(a.status_code, 200);
  EXPECT_EQ(b.status_code, 200);
  EXPECT_EQ(started.load(), 2);
}

TEST(HttpServerTest, SlowAndDeadPeersAreDropped) {
  Watchdog watchdog(seconds(60));
  std::promise<Status> body_status;
  HttpServerOptions options;
  options.idle_timeout = milliseconds(300);
  auto server = StartServer(
      [&](ServerRequest& req, ResponseWriter& w) {
        auto [md5, size] = HashBody(req);
        body_status.set_value(md5.starts_with("error") ? UnavailableError(md5) : Status::OK());
        (void)w.Send(200, "", md5);
      },
      options);
  ASSERT_NE(server, nullptr);
  // A header that never ends (slowloris): closed after the idle timeout, no handler call.
  RawPeer slow(server->port());
  ASSERT_TRUE(slow.connected());
  slow.SendText("GET / HTTP/1.1\r\nHost: x\r\n");
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(slow.ReadUntilClosed(seconds(5)), "");
  EXPECT_TRUE(slow.closed());
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(3));

  // A body that stops halfway: the handler's Read fails instead of hanging.
  RawPeer dead(server->port());
  dead.SendText("PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nonly this much");
  auto status = body_status.get_future();
  ASSERT_EQ(status.wait_for(seconds(5)), std::future_status::ready);
  EXPECT_THAT(status.get(), StatusIs(StatusCode::kUnavailable));
}

TEST(HttpServerTest, MalformedAndOversizedHeaders) {
  HttpServerOptions options;
  options.max_header_bytes = 1024;
  auto server =
      StartServer([](ServerRequest&, ResponseWriter& w) { (void)w.Send(200, "", ""); }, options);
  ASSERT_NE(server, nullptr);
  RawPeer big(server->port());
  big.SendText("GET / HTTP/1.1\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
  EXPECT_THAT(big.ReadUntilClosed(seconds(5)), ::testing::StartsWith("HTTP/1.1 431 "));
  RawPeer bad(server->port());
  bad.SendText("NOT HTTP AT ALL\r\n\r\n");
  EXPECT_THAT(bad.ReadUntilClosed(seconds(5)), ::testing::StartsWith("HTTP/1.1 400 "));
}

TEST(HttpServerTest, RejectingALargeUploadDoesNotWaitForItsBody) {
  Watchdog watchdog(seconds(60));
  auto server = StartServer([](ServerRequest&, ResponseWriter& w) {
    (void)w.Send(413, "text/plain", "too large\n");  // without reading the body
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  constexpr int64_t kSize = 512 * kMiB;
  int64_t sent = 0;
  auto source = [&](std::span<char> out) -> Result<size_t> {
    size_t n =
        static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(out.size()), kSize - sent));
    std::fill_n(out.data(), n, 'x');
    sent += static_cast<int64_t>(n);
    return n;
  };
  ASSERT_OK_AND_ASSIGN(HttpResponse r, Send(*client, "PUT", Url(*server, "/big"),
                                            RequestBody::FromSource(source, kSize)));
  EXPECT_EQ(r.status_code, 413);
  EXPECT_EQ(r.body, "too large\n");
  EXPECT_LT(sent, kSize / 4);  // Expect: 100-continue was never answered with 100
  // The connection was closed, so the next request opens another one and works.
  ASSERT_OK_AND_ASSIGN(HttpResponse again, Send(*client, "GET", Url(*server, "/")));
  EXPECT_EQ(again.status_code, 413);
}

TEST(HttpServerTest, AbortedReplyIsAShortBodyNeverAComplete) {
  auto server = StartServer([](ServerRequest&, ResponseWriter& w) {
    if (!w.Start(200, 2 * kMiB).ok()) return;
    (void)w.Write(Pattern(0, kMiB));
    // Returns without the second half, as a keepstore does on a hash mismatch.
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  uint64_t received = 0;
  HttpRequest get;
  get.method = "GET";
  get.url = Url(*server, "/x");
  Result<HttpResponse> r = client->Send(get, ResponseBody::Stream([&](std::string_view piece) {
                                          received += piece.size();
                                          return Status::OK();
                                        }));
  EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable));
  EXPECT_LE(received, kMiB);
}

TEST(HttpServerTest, HandlerThatDoesNotAnswerGets500) {
  auto server = StartServer([](ServerRequest&, ResponseWriter&) {});
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  ASSERT_OK_AND_ASSIGN(HttpResponse r, Send(*client, "GET", Url(*server, "/")));
  EXPECT_EQ(r.status_code, 500);
}

TEST(HttpServerTest, ShutdownFinishesTheRequestInFlightThenRefuses) {
  Watchdog watchdog(seconds(60));
  std::atomic<bool> entered{false};
  auto server = StartServer([&](ServerRequest&, ResponseWriter& w) {
    entered = true;
    std::this_thread::sleep_for(milliseconds(300));
    (void)w.Send(200, "", "finished");
  });
  ASSERT_NE(server, nullptr);
  auto client = MakeClient();
  std::string url = Url(*server, "/slow");
  auto in_flight = std::async(std::launch::async, [&] { return Send(*client, "GET", url); });
  while (!entered.load()) std::this_thread::sleep_for(milliseconds(5));
  server->Shutdown(seconds(5));
  ASSERT_OK_AND_ASSIGN(HttpResponse r, in_flight.get());
  EXPECT_EQ(r.status_code, 200);
  EXPECT_EQ(r.body, "finished");
  EXPECT_FALSE(Send(*client, "GET", url).ok());
  server->Shutdown(seconds(1));  // idempotent
}

TEST(HttpServerTest, ShutdownGraceBoundsAStuckHandler) {
  Watchdog watchdog(seconds(60));
  std::atomic<bool> entered{false};
  auto server = StartServer([&](ServerRequest& req, ResponseWriter& w) {
    entered = true;
    HashBody(req);  // waits for a body that never comes until the server closes the socket
    (void)w.Send(200, "", "");
  });
  ASSERT_NE(server, nullptr);
  RawPeer peer(server->port());
  peer.SendText("PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n");
  while (!entered.load()) std::this_thread::sleep_for(milliseconds(5));
  auto start = std::chrono::steady_clock::now();
  server->Shutdown(milliseconds(200));
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(3));
}

}  // namespace
}  // namespace cairn::httpd
