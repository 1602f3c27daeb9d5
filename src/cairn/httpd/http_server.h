// HttpServer: the HTTP/1.1 server under the keepstore and the catalog (Boost.Beast/Asio).
//
// Handlers are plain blocking functions that run on a bounded pool of worker threads: a handler
// reads the request body through ServerRequest::body (streamed, never buffered whole by the
// server) and answers through a ResponseWriter (whole body, or headers then body pieces). The
// server bounds everything: worker threads, requests waiting for a worker (past the bound it
// answers 503 at once), header size, and how long a peer may stall.
//
// Handlers know nothing of sockets, so they are tested with StringBodyReader and
// BufferedResponseWriter below.
#ifndef CAIRN_HTTPD_HTTP_SERVER_H_
#define CAIRN_HTTPD_HTTP_SERVER_H_

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "cairn/common/result.h"
#include "cairn/common/status.h"
#include "cairn/http/http_client.h"

namespace cairn::httpd {

using http::HttpHeaders;

// The request body, read in pieces. Not thread-safe: one handler reads it.
class RequestBodyReader {
 public:
  virtual ~RequestBodyReader() = default;
  // Reads up to out.size() bytes into `out`; returns 0 once the body has ended. kUnavailable when
  // the peer went away or stalled mid-body.
  virtual Result<size_t> Read(std::span<char> out) = 0;
};

// A request as a handler sees it. Owned by the server for the duration of the handler call.
struct ServerRequest {
  std::string method;  // "GET", "PUT", ...
  std::string target;  // as sent: "/path?query"
  std::string path;    // target before '?', not percent-decoded
  std::string query;   // target after '?', without it; empty when none
  HttpHeaders headers;
  // Content-Length when the request has one; nullopt for chunked bodies (and no body).
  std::optional<uint64_t> content_length;
  std::string remote_address;         // "127.0.0.1:54321"
  RequestBodyReader* body = nullptr;  // never null while a handler runs; empty body reads 0

  std::optional<std::string_view> Header(std::string_view name) const { return headers.Get(name); }
};

// How a handler answers. Not thread-safe: one handler writes it.
//
// Either Send (whole reply) or Start then Write pieces. Headers may be set until Send/Start.
// A handler that returns without answering gets a 500. Write returns kUnavailable when the peer
// went away: the handler should stop and return. A handler that returns after Start with fewer
// body bytes written than it announced aborts the reply: the server closes the connection, so the
// client sees a short body and never a complete wrong one (how a keepstore withholds a block whose
// hash does not match). A handler that does not read the whole request body gets
// "Connection: close" added to its reply.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  virtual void SetHeader(std::string_view name, std::string_view value) = 0;
  // Sends status, headers and `content_length`; the body then follows through Write and must be
  // exactly that long (a HEAD reply sends the length and no body: Write is not called).
  virtual Status Start(int status, uint64_t content_length) = 0;
  virtual Status Write(std::string_view piece) = 0;
  // The whole reply at once: Start(status, body.size()) and Write(body).
  Status Send(int status, std::string_view content_type, std::string_view body) {
    if (!content_type.empty()) SetHeader("Content-Type", content_type);
    Status started = Start(status, body.size());
    if (!started.ok() || body.empty()) return started;
    return Write(body);
  }
};

using Handler = std::function<void(ServerRequest& request, ResponseWriter& response)>;

struct HttpServerOptions {
  // "HOST:PORT"; port 0 picks a free port (see HttpServer::port()).
  std::string listen = "127.0.0.1:0";
  // Handler threads: requests handled at once.
  int worker_threads = 8;
  // Threads that move bytes between sockets and handlers (Asio io_context threads).
  int io_threads = 2;
  // Open connections; a connection past this is closed as soon as it is accepted.
  size_t max_connections = 1024;
  // Requests parsed and waiting for a worker; one more is answered 503 at once.
  size_t max_queued_requests = 64;
  // Request line plus headers.
  size_t max_header_bytes = 64 * 1024;
  // A peer that sends or takes no byte for this long is dropped (slowloris, dead clients). It also
  // bounds the time a peer may take to send a whole request header, and the wait for the next
  // request on a kept-alive connection.
  std::chrono::milliseconds idle_timeout{30'000};
};

// A running server. Thread-safe: Shutdown may be called from any thread (a signal-handling one).
class HttpServer {
 public:
  virtual ~HttpServer() = default;  // Shuts down (graceful, default grace) if still running.

  // Binds, listens and starts serving before it returns. kUnavailable (naming the address) when
  // the address cannot be bound; kInvalidArgument when `listen` is malformed.
  static Result<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                   Handler handler);

  // The bound port (useful with port 0).
  virtual uint16_t port() const = 0;
  // Stops accepting, lets requests in progress finish for up to `grace`, then closes every
  // connection and joins all threads. Idempotent.
  virtual void Shutdown(std::chrono::milliseconds grace) = 0;
};

// --- For handler tests, without sockets. ---

// A body held in memory.
class StringBodyReader : public RequestBodyReader {
 public:
  explicit StringBodyReader(std::string body) : body_(std::move(body)) {}
  Result<size_t> Read(std::span<char> out) override {
    size_t n = std::min(out.size(), body_.size() - offset_);
    body_.copy(out.data(), n, offset_);
    offset_ += n;
    return n;
  }

 private:
  std::string body_;
  size_t offset_ = 0;
};

// Collects a reply in memory.
class BufferedResponseWriter : public ResponseWriter {
 public:
  void SetHeader(std::string_view name, std::string_view value) override {
    headers.Add(std::string(name), std::string(value));
  }
  Status Start(int code, uint64_t length) override {
    status = code;
    content_length = length;
    started = true;
    return Status::OK();
  }
  Status Write(std::string_view piece) override {
    body.append(piece);
    return Status::OK();
  }

  bool started = false;
  int status = 0;
  uint64_t content_length = 0;
  HttpHeaders headers;
  std::string body;
};

}  // namespace cairn::httpd

#endif  // CAIRN_HTTPD_HTTP_SERVER_H_
