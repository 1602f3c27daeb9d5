// Internals of HttpServer (Boost.Beast/Asio), private to the httpd module.
//
// Threads: `io_threads` run the io_context (accept, read request headers, and every socket
// operation); `worker_threads` run handlers. A connection alternates between the two: its strand
// reads a request header asynchronously, then hands the connection to the request queue; a
// worker pops it and runs the handler, whose body reads and reply writes are posted to the
// connection's strand and waited for (so every socket operation runs on the strand and has the
// idle timeout of beast::tcp_stream); when the handler returns, the connection goes back to its
// strand to read the next request or to close.
#ifndef CAIRN_HTTPD_HTTP_SERVER_INTERNAL_H_
#define CAIRN_HTTPD_HTTP_SERVER_INTERNAL_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "cairn/common/bounded_queue.h"
#include "cairn/common/result.h"
#include "cairn/common/status.h"
#include "cairn/httpd/http_server.h"

namespace cairn::httpd::internal {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

class Connection;

// State shared by the server and its connections. Thread-safe (see members).
struct ServerCore {
  ServerCore(const HttpServerOptions& opts, Handler h);

  const HttpServerOptions options;
  const Handler handler;
  // Requests parsed and waiting for a worker.
  BoundedQueue<std::shared_ptr<Connection>> queue;
  std::atomic<bool> stopping{false};

  std::mutex mu;
  std::condition_variable idle_cv;  // signalled when in_flight drops to 0
  int in_flight = 0;                // requests queued or running; guarded by mu
  // Every open connection, for Shutdown; guarded by mu. Connections add and remove themselves.
  std::map<Connection*, std::weak_ptr<Connection>> connections;

  // Declared last so that it is destroyed first: destroying it destroys pending handlers, which
  // may hold the last reference to a Connection, which unregisters itself from `connections`.
  net::io_context ioc;
};

// One TCP connection. Owned by shared_ptrs held by its pending operations and the queue.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(tcp::socket socket, ServerCore* core);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Registers the connection and starts reading the first request (call once, any thread).
  void Start();
  // Runs the handler for the parsed request, then resumes reading or closes. Worker thread only.
  void Serve();
  // Closes the socket if no request is being handled (`force`: in any case). Any thread.
  void Close(bool force);

 private:
  class Exchange;
  struct Waiter;

  // Strand side.
  void ReadHeader();
  void OnHeader(beast::error_code ec);
  void ReplyAndClose(int status, std::string body);
  void LingerClose();
  void HardClose();

  // Worker side: each posts one operation to the strand and waits for it.
  Result<size_t> ReadBody(std::span<char> out);
  Status WriteAll(std::span<const net::const_buffer> buffers);
  // Posts a write of `buffers` (which must stay valid until then) and returns; `waiter` is set
  // when it completes.
  void StartWrite(std::vector<net::const_buffer> buffers, Waiter* waiter);
  Status SendContinue();

  ServerCore* const core_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::string remote_address_;

  // The request being read or handled; touched by the strand until the connection is queued,
  // then by the worker until it hands the connection back (the queue orders the hand-offs).
  std::optional<beast::http::request_parser<beast::http::buffer_body>> parser_;
  std::optional<uint64_t> content_length_;
  bool chunked_ = false;
  bool expect_continue_ = false;
  bool continue_sent_ = false;
  bool body_done_ = false;
  uint64_t body_read_ = 0;

  std::atomic<bool> in_request_{false};  // set while queued or handled
};

}  // namespace cairn::httpd::internal

#endif  // CAIRN_HTTPD_HTTP_SERVER_INTERNAL_H_
