// One HTTP/1.1 connection of HttpServer: see http_server_internal.h for the threading.
#include <algorithm>
#include <array>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <mutex>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

#include "cairn/httpd/http_server_internal.h"

namespace cairn::httpd::internal {
namespace bhttp = beast::http;

namespace {

// Bytes of an unread request body drained before closing, so that the client reads the reply
// instead of a reset (closing a socket with unread input sends RST).
constexpr size_t kMaxDrainBytes = 1 << 20;
// How long a closing connection waits for the peer to finish sending.
constexpr std::chrono::milliseconds kLingerTime{2000};

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c <= 32 || c >= 127 || std::strchr("\"(),/:;<=>?@[\\]{}", c) != nullptr) return false;
  }
  return true;
}

bool IsFieldValue(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// Beast 1.74 speaks boost::string_view.
std::string_view Sv(beast::string_view s) { return std::string_view(s.data(), s.size()); }

bool IEquals(std::string_view a, std::string_view b) {
  return beast::iequals(beast::string_view(a.data(), a.size()),
                        beast::string_view(b.data(), b.size()));
}

std::string StatusLine(int status) {
  std::string line = "HTTP/1.1 " + std::to_string(status) + " ";
  std::string_view reason = cairn::http::HttpReasonPhrase(status);
  line.append(reason.empty() ? "Unknown" : reason);
  line.append("\r\n");
  return line;
}

}  // namespace

// A blocking wait, on a worker thread, for one operation posted to a connection's strand.
struct Connection::Waiter {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  beast::error_code ec;
  size_t bytes = 0;

  // Notifies under the lock: the waiting thread may destroy the Waiter as soon as it sees done.
  void Set(beast::error_code e, size_t n) {
    std::lock_guard lock(mu);
    ec = e;
    bytes = n;
    done = true;
    cv.notify_one();
  }
  void Wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [this] { return done; });
  }
};

// The request body reader and response writer handed to the handler for one request.
class Connection::Exchange final : public RequestBodyReader, public ResponseWriter {
 public:
  enum class Outcome { kKeepAlive, kLinger, kClose };

  Exchange(Connection* connection, bool head, bool keep_alive)
      : c_(connection), head_(head), keep_alive_(keep_alive) {}
  ~Exchange() override {
    if (in_flight_) in_flight_->Wait();  // the buffers it sends are ours
  }

  Result<size_t> Read(std::span<char> out) override { return c_->ReadBody(out); }

  void SetHeader(std::string_view name, std::string_view value) override {
    if (!started_) headers_.emplace_back(std::string(name), std::string(value));
  }

  Status Start(int status, uint64_t content_length) override {
    if (started_) return FailedPreconditionError("reply already started");
    if (status < 200 || status > 599) {
      return InvalidArgumentError("reply status " + std::to_string(status) + " out of range");
    }
    std::string header = StatusLine(status);
    for (const auto& [name, value] : headers_) {
      if (!IsToken(name) || !IsFieldValue(value)) {
        return InvalidArgumentError("reply header \"" + name + "\" is malformed");
      }
      // The server owns framing.
      if (IEquals(name, "Content-Length") || IEquals(name, "Transfer-Encoding") ||
          IEquals(name, "Connection")) {
        continue;
      }
      header.append(name).append(": ").append(value).append("\r\n");
    }
    header.append("Content-Length: ").append(std::to_string(content_length)).append("\r\n");
    close_after_ = !keep_alive_ || !c_->body_done_ || c_->core_->stopping.load();
    if (close_after_) header.append("Connection: close\r\n");
    header.append("\r\n");
    header_ = std::move(header);
    content_length_ = content_length;
    started_ = true;
    return Status::OK();
  }

  // Write-behind: the piece is copied and sent while the handler prepares the next one (a
  // keepstore hashes the next piece as this one goes out); a failure of that send is reported by
  // the next Write. At most one piece is in flight.
  Status Write(std::string_view piece) override {
    if (!started_) return FailedPreconditionError("Write before Start");
    if (head_) return FailedPreconditionError("a HEAD reply has no body");
    if (piece.size() > content_length_ - written_) {
      return FailedPreconditionError("reply body longer than its Content-Length");
    }
    CAIRN_RETURN_IF_ERROR(AwaitPrevious());
    if (failed_) return UnavailableError("write reply: the connection is closed");
    if (piece.empty()) return Status::OK();
    send_buffer_.assign(piece);
    std::vector<net::const_buffer> seq;
    if (!header_sent_) seq.push_back(net::buffer(header_));
    seq.push_back(net::buffer(send_buffer_));
    header_sent_ = true;
    in_flight_ = std::make_unique<Waiter>();
    c_->StartWrite(std::move(seq), in_flight_.get());
    written_ += piece.size();
    return Status::OK();
  }

  // After the handler returned: completes the reply and says what becomes of the connection.
  Outcome Finish() {
    if (!AwaitPrevious().ok()) return Outcome::kClose;
    if (!started_) {
      headers_.clear();
      keep_alive_ = false;
      if (!Send(500, "text/plain", "handler did not answer\n").ok()) return Outcome::kClose;
    }
    if (failed_) return Outcome::kClose;
    if (!header_sent_) {
      net::const_buffer b = net::buffer(header_);
      header_sent_ = true;
      if (!c_->WriteAll(std::span<const net::const_buffer>(&b, 1)).ok()) return Outcome::kClose;
    }
    if (!head_ && written_ < content_length_) return Outcome::kClose;  // aborted reply
    if (close_after_ || !c_->body_done_) return Outcome::kLinger;
    return Outcome::kKeepAlive;
  }

 private:
  Status AwaitPrevious() {
    if (!in_flight_) return Status::OK();
    in_flight_->Wait();
    beast::error_code ec = in_flight_->ec;
    in_flight_.reset();
    if (!ec) return Status::OK();
    failed_ = true;
    return UnavailableError("write reply: " + ec.message());
  }

  Connection* const c_;
  const bool head_;
  bool keep_alive_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string header_;
  bool started_ = false;
  bool header_sent_ = false;
  bool close_after_ = false;
  bool failed_ = false;
  uint64_t content_length_ = 0;
  uint64_t written_ = 0;
  std::string send_buffer_;            // the piece in flight
  std::unique_ptr<Waiter> in_flight_;  // its completion; null when none
};

Connection::Connection(tcp::socket socket, ServerCore* core)
    : core_(core), stream_(std::move(socket)) {
  beast::error_code ec;
  tcp::endpoint remote = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_address_ = remote.address().to_string() + ":" + std::to_string(remote.port());
  stream_.socket().set_option(tcp::no_delay(true), ec);
}

Connection::~Connection() {
  std::lock_guard lock(core_->mu);
  core_->connections.erase(this);
}

void Connection::Start() {
  {
    std::lock_guard lock(core_->mu);
    core_->connections.emplace(this, weak_from_this());
  }
  net::post(stream_.get_executor(), [self = shared_from_this()] { self->ReadHeader(); });
}

void Connection::Close(bool force) {
  net::post(stream_.get_executor(), [self = shared_from_this(), force] {
    if (force || !self->in_request_.load()) self->HardClose();
  });
}

void Connection::ReadHeader() {
  if (core_->stopping.load()) return HardClose();
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(
      std::min<size_t>(core_->options.max_header_bytes, std::numeric_limits<uint32_t>::max())));
  // Handlers decide (a keepstore answers 413). Not boost::none: Beast 1.74 compares
  // `length > none` as true and would refuse every body.
  parser_->body_limit(std::numeric_limits<uint64_t>::max());
  stream_.expires_after(core_->options.idle_timeout);
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

void Connection::OnHeader(beast::error_code ec) {
  if (ec == bhttp::error::header_limit) return ReplyAndClose(431, "request header too large\n");
  if (ec && ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category() &&
      ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
    return ReplyAndClose(400, "malformed request: " + ec.message() + "\n");
  }
  if (ec || core_->stopping.load()) return HardClose();  // timeout, reset, end of stream

  const auto& req = parser_->get();
  chunked_ = parser_->chunked();
  content_length_.reset();
  if (parser_->content_length()) content_length_ = *parser_->content_length();
  body_done_ = !chunked_ && content_length_.value_or(0) == 0;
  body_read_ = 0;
  auto expect = req.find(bhttp::field::expect);
  expect_continue_ = expect != req.end() && IEquals(Sv(expect->value()), "100-continue");
  continue_sent_ = false;

  in_request_ = true;
  {
    std::lock_guard lock(core_->mu);
    ++core_->in_flight;
  }
  if (!core_->queue.TryPush(shared_from_this())) {
    {
      std::lock_guard lock(core_->mu);
      if (--core_->in_flight == 0) core_->idle_cv.notify_all();
    }
    in_request_ = false;
    ReplyAndClose(503, "server busy\n");
  }
}

void Connection::ReplyAndClose(int status, std::string body) {
  auto reply = std::make_shared<std::string>(StatusLine(status));
  reply->append("Content-Type: text/plain\r\nContent-Length: ")
      .append(std::to_string(body.size()))
      .append("\r\nConnection: close\r\n");
  if (status == 503) reply->append("Retry-After: 1\r\n");
  reply->append("\r\n").append(body);
  stream_.expires_after(core_->options.idle_timeout);
  net::async_write(stream_, net::buffer(*reply),
                   [self = shared_from_this(), reply](beast::error_code ec, size_t) {
                     if (ec) return self->HardClose();
                     self->LingerClose();
                   });
}

void Connection::LingerClose() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  auto drained = std::make_shared<size_t>(0);
  auto scratch = std::make_shared<std::array<char, 64 * 1024>>();
  stream_.expires_after(
      std::min<std::chrono::milliseconds>(kLingerTime, core_->options.idle_timeout));
  // Reads and drops what the peer still sends, until it closes, the time is up or enough.
  struct Drain {
    std::shared_ptr<Connection> self;
    std::shared_ptr<size_t> drained;
    std::shared_ptr<std::array<char, 64 * 1024>> scratch;
    void operator()(beast::error_code ec, size_t n) {
      *drained += n;
      if (ec || *drained > kMaxDrainBytes) return self->HardClose();
      self->stream_.async_read_some(net::buffer(*scratch), std::move(*this));
    }
  };
  stream_.async_read_some(net::buffer(*scratch), Drain{shared_from_this(), drained, scratch});
}

void Connection::HardClose() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
}

void Connection::Serve() {
  const auto& req = parser_->get();
  ServerRequest request;
  request.method = std::string(Sv(req.method_string()));
  request.target = std::string(Sv(req.target()));
  size_t q = request.target.find('?');
  request.path = request.target.substr(0, q);
  if (q != std::string::npos) request.query = request.target.substr(q + 1);
  for (const auto& field : req) {
    request.headers.Add(std::string(Sv(field.name_string())), std::string(Sv(field.value())));
  }
  request.content_length = content_length_;
  request.remote_address = remote_address_;
  Exchange exchange(this, request.method == "HEAD", req.keep_alive());
  request.body = &exchange;

  core_->handler(request, exchange);
  Exchange::Outcome outcome = exchange.Finish();
  if (core_->stopping.load() && outcome == Exchange::Outcome::kKeepAlive) {
    outcome = Exchange::Outcome::kLinger;
  }
  in_request_ = false;
  auto self = shared_from_this();
  switch (outcome) {
    case Exchange::Outcome::kKeepAlive:
      net::post(stream_.get_executor(), [self] { self->ReadHeader(); });
      break;
    case Exchange::Outcome::kLinger:
      net::post(stream_.get_executor(), [self] { self->LingerClose(); });
      break;
    case Exchange::Outcome::kClose:
      net::post(stream_.get_executor(), [self] { self->HardClose(); });
      break;
  }
  std::lock_guard lock(core_->mu);
  if (--core_->in_flight == 0) core_->idle_cv.notify_all();
}

Result<size_t> Connection::ReadBody(std::span<char> out) {
  if (body_done_ || out.empty()) return size_t{0};
  if (expect_continue_ && !continue_sent_) {
    continue_sent_ = true;
    CAIRN_RETURN_IF_ERROR(SendContinue());
  }
  auto self = shared_from_this();
  Waiter waiter;
  if (!chunked_) {
    size_t want =
        static_cast<size_t>(std::min<uint64_t>(out.size(), *content_length_ - body_read_));
    // Bytes read past the header come first.
    size_t n = net::buffer_copy(net::buffer(out.data(), want), buffer_.data());
    buffer_.consume(n);
    if (n < want) {
      char* dst = out.data() + n;
      size_t rest = want - n;
      net::post(stream_.get_executor(), [this, self, &waiter, dst, rest] {
        stream_.expires_after(core_->options.idle_timeout);
        net::async_read(stream_, net::buffer(dst, rest),
                        [&waiter](beast::error_code ec, size_t got) { waiter.Set(ec, got); });
      });
      waiter.Wait();
      if (waiter.ec) {
        return UnavailableError("read request body: " + waiter.ec.message() + " after " +
                                std::to_string(body_read_ + n + waiter.bytes) + " bytes");
      }
      n += waiter.bytes;
    }
    body_read_ += n;
    if (body_read_ == *content_length_) body_done_ = true;
    return n;
  }
  // Chunked: the parser decodes into `out`.
  for (;;) {
    auto& body = parser_->get().body();
    body.data = out.data();
    body.size = out.size();
    waiter.done = false;
    net::post(stream_.get_executor(), [this, self, &waiter] {
      stream_.expires_after(core_->options.idle_timeout);
      bhttp::async_read_some(stream_, buffer_, *parser_, [&waiter](beast::error_code ec, size_t) {
        if (ec == bhttp::error::need_buffer) ec = {};
        waiter.Set(ec, 0);
      });
    });
    waiter.Wait();
    if (waiter.ec) return UnavailableError("read request body: " + waiter.ec.message());
    size_t n = out.size() - parser_->get().body().size;
    body_read_ += n;
    if (parser_->is_done()) body_done_ = true;
    if (n > 0 || body_done_) return n;
  }
}

void Connection::StartWrite(std::vector<net::const_buffer> buffers, Waiter* waiter) {
  net::post(stream_.get_executor(),
            [this, self = shared_from_this(), waiter, seq = std::move(buffers)] {
              stream_.expires_after(core_->options.idle_timeout);
              net::async_write(stream_, seq,
                               [waiter](beast::error_code ec, size_t n) { waiter->Set(ec, n); });
            });
}

Status Connection::WriteAll(std::span<const net::const_buffer> buffers) {
  Waiter waiter;
  StartWrite(std::vector<net::const_buffer>(buffers.begin(), buffers.end()), &waiter);
  waiter.Wait();
  if (waiter.ec) return UnavailableError("write reply: " + waiter.ec.message());
  return Status::OK();
}

Status Connection::SendContinue() {
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
  net::const_buffer b = net::buffer(kContinue.data(), kContinue.size());
  return WriteAll(std::span<const net::const_buffer>(&b, 1));
}

}  // namespace cairn::httpd::internal
