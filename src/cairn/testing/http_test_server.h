// HttpTestServer: a tiny HTTP/1.1 server on 127.0.0.1 for tests of HTTP clients.
//
// It listens on an ephemeral port, runs one thread per connection, reads each request whole
// (Content-Length or chunked body, answering "Expect: 100-continue") and hands it to a handler
// that answers through an Exchange: a whole response, or raw bytes written piece by piece (to
// stream, stall or cut a reply). Connections are kept alive unless the client or the handler
// closes them. It counts accepted connections and the most open at once, for pool tests.
//
//   auto server = HttpTestServer::Start([](HttpTestServer::Exchange& ex) {
//     ex.Respond(200, "hello");
//   });
//   ... client.Send({.method = "GET", .url = (*server)->Url("/x")}, ...);
//
// Thread safety: the handler runs concurrently on the connection threads. Start, Stop and the
// accessors may be called from any thread but the handler's. Stop (and the destructor) closes
// every connection, wakes handlers blocked in Write or Pause, and joins every thread.
#ifndef CAIRN_TESTING_HTTP_TEST_SERVER_H_
#define CAIRN_TESTING_HTTP_TEST_SERVER_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "cairn/common/result.h"
#include "cairn/common/status.h"

namespace cairn::testing {

class HttpTestServer {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  struct Request {
    std::string method;
    std::string target;  // path and query, as sent
    Headers headers;
    std::string body;
    bool chunked = false;  // the body came with "Transfer-Encoding: chunked"
    int connection = 0;    // which accepted connection carried it (1, 2, ...)

    // The first field named `name`, any case.
    std::optional<std::string> Header(std::string_view name) const {
      for (const auto& [key, value] : headers) {
        if (EqualsIgnoreCase(key, name)) return value;
      }
      return std::nullopt;
    }
  };

  // One request and the means to answer it.
  class Exchange {
   public:
    const Request& request() const { return request_; }

    // Writes raw bytes; false once the client has gone or the server is stopping.
    bool Write(std::string_view bytes) {
      while (!bytes.empty()) {
        ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        bytes.remove_prefix(static_cast<size_t>(n));
        written_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
      }
      return true;
    }

    // Status line and headers (Content-Length added when `content_length` is set).
    bool WriteHead(int status, const Headers& headers, std::optional<uint64_t> content_length) {
      std::string head = "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) + "\r\n";
      for (const auto& [name, value] : headers) head += name + ": " + value + "\r\n";
      if (content_length) head += "Content-Length: " + std::to_string(*content_length) + "\r\n";
      head += "\r\n";
      return Write(head);
    }

    // A whole response with Content-Length (the body is not sent for HEAD).
    bool Respond(int status, std::string_view body, const Headers& headers = {}) {
      if (!WriteHead(status, headers, body.size())) return false;
      return request_.method == "HEAD" || Write(body);
    }

    // Waits for `duration`; returns early with false when the server is stopping.
    bool Pause(std::chrono::milliseconds duration) {
      std::unique_lock lock(server_->mu_);
      return !server_->stop_cv_.wait_for(lock, duration, [this] { return server_->stopping_; });
    }

    // Closes the connection after the handler returns instead of reading another request.
    void CloseAfter() { close_after_ = true; }

    // Bytes written so far in answer to this request (any thread may read it).
    uint64_t bytes_written() const { return written_.load(std::memory_order_relaxed); }

   private:
    friend class HttpTestServer;
    Exchange(HttpTestServer* server, int fd) : server_(server), fd_(fd) {}
    HttpTestServer* server_;
    int fd_;
    Request request_;
    bool close_after_ = false;
    std::atomic<uint64_t> written_{0};
  };

  using Handler = std::function<void(Exchange&)>;

  static Result<std::unique_ptr<HttpTestServer>> Start(Handler handler) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return ErrnoError("test server: socket", errno);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof(addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        ::listen(fd, 128) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      Status status = ErrnoError("test server: bind/listen", errno);
      ::close(fd);
      return status;
    }
    std::unique_ptr<HttpTestServer> server(
        new HttpTestServer(fd, ntohs(addr.sin_port), std::move(handler)));
    server->acceptor_ = std::thread([s = server.get()] { s->AcceptLoop(); });
    return server;
  }

  ~HttpTestServer() { Stop(); }
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port><path>".
  std::string Url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

  int connections_accepted() const {
    std::lock_guard lock(mu_);
    return accepted_;
  }
  int max_open_connections() const {
    std::lock_guard lock(mu_);
    return max_open_;
  }
  int requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

  // Idempotent.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_ && !acceptor_.joinable()) return;
      stopping_ = true;
      ::shutdown(listen_fd_, SHUT_RDWR);                   // wakes accept()
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);  // wakes recv() and send()
    }
    stop_cv_.notify_all();
    if (acceptor_.joinable()) acceptor_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      threads.swap(connection_threads_);
    }
    for (std::thread& t : threads) t.join();
    ::close(listen_fd_);
    listen_fd_ = -1;
  }

 private:
  HttpTestServer(int listen_fd, int port, Handler handler)
      : listen_fd_(listen_fd), port_(port), handler_(std::move(handler)) {}

  static bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
             return std::tolower(static_cast<unsigned char>(x)) ==
                    std::tolower(static_cast<unsigned char>(y));
           });
  }

  static std::string Reason(int status) {
    switch (status) {
      case 100:
        return "Continue";
      case 200:
        return "OK";
      case 201:
        return "Created";
      case 204:
        return "No Content";
      case 206:
        return "Partial Content";
      case 400:
        return "Bad Request";
      case 403:
        return "Forbidden";
      case 404:
        return "Not Found";
      case 500:
        return "Internal Server Error";
      case 503:
        return "Service Unavailable";
      default:
        return "Status";
    }
  }

  void AcceptLoop() {
    while (true) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;  // shut down
      }
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      std::lock_guard lock(mu_);
      if (stopping_) {
        ::close(fd);
        return;
      }
      const int id = ++accepted_;
      open_fds_.insert(fd);
      max_open_ = std::max(max_open_, static_cast<int>(open_fds_.size()));
      connection_threads_.emplace_back([this, fd, id] { Serve(fd, id); });
    }
  }

  void Serve(int fd, int connection) {
    std::string buffer;
    while (true) {
      Exchange exchange(this, fd);
      if (!ReadRequest(fd, buffer, exchange)) break;
      exchange.request_.connection = connection;
      {
        std::lock_guard lock(mu_);
        ++requests_;
      }
      handler_(exchange);
      std::optional<std::string> connection_header = exchange.request_.Header("Connection");
      if (exchange.close_after_ ||
          (connection_header && EqualsIgnoreCase(*connection_header, "close"))) {
        break;
      }
    }
    std::lock_guard lock(mu_);
    open_fds_.erase(fd);
    ::close(fd);
  }

  // Reads more bytes into `buffer`; false at end of stream or on error.
  static bool Fill(int fd, std::string& buffer) {
    char chunk[64 * 1024];
    while (true) {
      ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buffer.append(chunk, static_cast<size_t>(n));
      return true;
    }
  }

  // Takes one CRLF-terminated line from the front of `buffer`, reading as needed.
  static bool ReadLine(int fd, std::string& buffer, std::string& line) {
    size_t end;
    while ((end = buffer.find("\r\n")) == std::string::npos) {
      if (!Fill(fd, buffer)) return false;
    }
    line = buffer.substr(0, end);
    buffer.erase(0, end + 2);
    return true;
  }

  static bool ReadBytes(int fd, std::string& buffer, size_t n, std::string& out) {
    while (buffer.size() < n) {
      if (!Fill(fd, buffer)) return false;
    }
    out.append(buffer, 0, n);
    buffer.erase(0, n);
    return true;
  }

  bool ReadRequest(int fd, std::string& buffer, Exchange& exchange) {
    Request& request = exchange.request_;
    std::string line;
    if (!ReadLine(fd, buffer, line)) return false;
    size_t sp1 = line.find(' ');
    size_t sp2 = line.rfind(' ');
    if (sp1 == std::string::npos || sp2 == sp1) return false;
    request.method = line.substr(0, sp1);
    request.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    while (true) {
      if (!ReadLine(fd, buffer, line)) return false;
      if (line.empty()) break;
      size_t colon = line.find(':');
      if (colon == std::string::npos) return false;
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      request.headers.emplace_back(line.substr(0, colon), value);
    }
    std::optional<std::string> expect = request.Header("Expect");
    if (expect && EqualsIgnoreCase(*expect, "100-continue")) {
      if (!exchange.Write("HTTP/1.1 100 Continue\r\n\r\n")) return false;
    }
    std::optional<std::string> encoding = request.Header("Transfer-Encoding");
    if (encoding && EqualsIgnoreCase(*encoding, "chunked")) {
      request.chunked = true;
      while (true) {
        if (!ReadLine(fd, buffer, line)) return false;
        size_t size = std::strtoull(line.c_str(), nullptr, 16);
        if (size == 0) break;
        if (!ReadBytes(fd, buffer, size, request.body) || !ReadLine(fd, buffer, line)) return false;
      }
      do {  // trailers, up to the empty line
        if (!ReadLine(fd, buffer, line)) return false;
      } while (!line.empty());
    } else if (std::optional<std::string> length = request.Header("Content-Length")) {
      if (!ReadBytes(fd, buffer, std::strtoull(length->c_str(), nullptr, 10), request.body)) {
        return false;
      }
    }
    exchange.written_.store(0, std::memory_order_relaxed);
    return true;
  }

  int listen_fd_;
  const int port_;
  const Handler handler_;
  mutable std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;                        // guarded by mu_
  int accepted_ = 0;                             // guarded by mu_
  int max_open_ = 0;                             // guarded by mu_
  int requests_ = 0;                             // guarded by mu_
  std::set<int> open_fds_;                       // guarded by mu_
  std::vector<std::thread> connection_threads_;  // guarded by mu_
  std::thread acceptor_;
};

}  // namespace cairn::testing

#endif  // CAIRN_TESTING_HTTP_TEST_SERVER_H_
