// HttpClient: the one door to HTTP for the object-store clients (S3, Swift) and the Keep client.
//
// A request names its method, URL and headers and carries a body given either as bytes the caller
// owns or as a pull callback (streamed, of known or unknown length). The response body goes either
// into a bounded string or, piece by piece, to a push callback that may stop the transfer (a hash
// mismatch, a memory budget). HTTP error statuses are replies, not errors, at this layer: the
// caller decides what a 404 means and may use HttpStatusToStatus. Transport failures become a
// Status whose code says whether to retry (see Send).
//
// Implementations: CurlHttpClient (libcurl) and FaultInjectingHttpClient (a test double).
#ifndef CAIRN_HTTP_HTTP_CLIENT_H_
#define CAIRN_HTTP_HTTP_CLIENT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "cairn/common/result.h"
#include "cairn/common/status.h"

namespace cairn::http {

// Writes up to buffer.size() bytes of a request body into `buffer` and returns how many; 0 means
// the body has ended. An error aborts the request and Send returns that error unchanged.
using BodySource = std::function<Result<size_t>(std::span<char> buffer)>;

// Puts a BodySource back at the first byte of its body, so the request can be sent again.
using BodyRewinder = std::function<Status()>;

// A request body. Copyable: a copy of a byte body views the same bytes; a copy of a streamed body
// holds copies of its callbacks (keep a source's position outside the lambda if copies must agree).
//
// Rewinding (for a retry, or when the transport resends on a fresh connection):
//  - empty and byte bodies always rewind: every Send reads them from their first byte;
//  - a streamed body rewinds only if it was built with a BodyRewinder (a file can seek back; a pipe
//    cannot). A streamed body is consumed by Send, so call Rewind() before sending it again.
class RequestBody {
 public:
  static constexpr int64_t kUnknownLength = -1;

  // No body. PUT and POST still send "Content-Length: 0"; other methods send no length.
  RequestBody() = default;

  // `bytes` is not copied: it must stay valid and unchanged until Send returns.
  static RequestBody FromBytes(std::string_view bytes);

  // Pulls the body from `source` during Send. `length` is the exact byte count when known (sent as
  // Content-Length; the source must produce exactly that many bytes: fewer is an error, bytes past
  // `length` are never requested) or kUnknownLength (sent with chunked transfer encoding).
  // `rewind` may be empty: the body then cannot be sent twice.
  static RequestBody FromSource(BodySource source, int64_t length, BodyRewinder rewind = nullptr);

  bool empty() const { return std::holds_alternative<std::monostate>(rep_); }
  bool is_bytes() const { return std::holds_alternative<std::string_view>(rep_); }
  bool is_stream() const { return std::holds_alternative<Stream>(rep_); }
  // The byte count, or kUnknownLength for a streamed body of unknown length (0 when empty).
  int64_t length() const;
  // REQUIRES: is_bytes().
  std::string_view bytes() const { return std::get<std::string_view>(rep_); }
  // REQUIRES: is_stream().
  const BodySource& source() const { return std::get<Stream>(rep_).source; }

  // True when the body can be sent again after a failed Send (see the class comment).
  bool rewindable() const;
  // Makes the next Send start from the body's first byte: OK for empty and byte bodies (nothing
  // to do) and for rewindable streams (calls the rewinder); kFailedPrecondition otherwise.
  Status Rewind() const;

 private:
  struct Stream {
    BodySource source;
    int64_t length = kUnknownLength;
    BodyRewinder rewind;
  };
  std::variant<std::monostate, std::string_view, Stream> rep_;
};

// Header fields in the order received, with case-insensitive lookup (RFC 9110 §5.1).
class HttpHeaders {
 public:
  void Add(std::string name, std::string value);
  // The value of the first field named `name` (any case), or nullopt. The view is valid until the
  // headers are modified or destroyed.
  std::optional<std::string_view> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  const std::vector<std::pair<std::string, std::string>>& entries() const { return entries_; }
  void Clear() { entries_.clear(); }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

struct HttpRequest {
  std::string method;  // "GET", "PUT", "HEAD", "POST", "DELETE", ...
  // Absolute http:// or https:// URL, already percent-encoded (the client sends it as given).
  std::string url;
  // Sent in this order. Content-Length, Transfer-Encoding and Expect are ignored: the client
  // derives them from `body`. Names must be tokens and values free of CR, LF and NUL. Values may
  // hold secrets (Authorization): the client never puts header values in errors or logs.
  std::vector<std::pair<std::string, std::string>> headers;
  RequestBody body;
  // Overall deadline for this request, from the call to Send to the last body byte (waiting for a
  // pooled connection included). Zero: the client's default.
  std::chrono::milliseconds timeout{0};
  // How errors name this request when its path itself carries a secret (a Keep locator with a +A
  // signature). Empty: RedactUrl(url), which already drops user info, query and fragment.
  std::string url_for_messages;
};

struct HttpResponse {
  int status_code = 0;
  HttpHeaders headers;
  // The body when collected (ResponseBody::Collect). When streamed (ResponseBody::Stream) it holds
  // the body of a non-2xx reply instead (an error document, first kMaxErrorBodyBytes only).
  std::string body;
  // Body bytes received (all of them, including any dropped past kMaxErrorBodyBytes).
  uint64_t body_bytes = 0;
};

// Takes the next piece of a response body. A non-OK status aborts the transfer at once (the
// connection is closed, not drained) and Send returns that status unchanged: how a reader stops on
// a hash mismatch or a memory budget.
using BodySink = std::function<Status(std::string_view piece)>;

// Sees the final status and headers before the first body byte (also for a body-less reply); a
// non-OK status aborts the transfer like a sink's, e.g. when the ETag is not the pinned one.
using HeadersCallback = std::function<Status(const HttpResponse& response)>;

// Where a response body goes.
class ResponseBody {
 public:
  // Error bodies kept when streaming (S3 and Swift error documents are well under 1 KiB).
  static constexpr size_t kMaxErrorBodyBytes = 64 * 1024;

  // Into HttpResponse::body, whatever the status. A body longer than `max_bytes` aborts the
  // transfer with kResourceExhausted.
  static ResponseBody Collect(size_t max_bytes);
  // A 2xx body goes to `sink` as it arrives, never buffered whole; any other status's body goes to
  // HttpResponse::body (first kMaxErrorBodyBytes kept) so the caller can read the error document.
  // `on_headers` may be empty.
  static ResponseBody Stream(BodySink sink, HeadersCallback on_headers = nullptr);
  // As Stream, for a 2xx body the caller wants in `receive_into` (at most its size). A client that
  // can receives the body straight there from the connection, sparing a copy, and hands the sink
  // each piece where it already lies (piece.data() == receive_into.data() + bytes delivered so
  // far); others pass pieces of their own buffers. The sink copies a piece only when it is not
  // already in place.
  static ResponseBody StreamInto(std::span<char> receive_into, BodySink sink,
                                 HeadersCallback on_headers = nullptr);

  bool streamed() const { return static_cast<bool>(sink_); }
  size_t max_bytes() const { return max_bytes_; }
  const BodySink& sink() const { return sink_; }
  const HeadersCallback& on_headers() const { return on_headers_; }
  std::span<char> receive_into() const { return receive_into_; }

 private:
  ResponseBody() = default;
  size_t max_bytes_ = 0;
  std::span<char> receive_into_;
  BodySink sink_;
  HeadersCallback on_headers_;
};

// Sends HTTP requests.
//
// Thread safety: Send may be called concurrently from any number of threads; implementations bound
// their connections and make callers wait for one. The callbacks of a request (source, rewinder,
// sink, on_headers) run on the thread that called Send, during the call, never after it returns,
// and never concurrently with each other for one request.
class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Sends `request` and returns the reply, whatever its HTTP status. Errors, by what the caller
  // should do (messages name the method and the redacted URL, never query strings or headers):
  //   kUnavailable        retry the call: connection refused or reset, DNS failure, timeouts
  //                       (connect, idle progress, overall), a reply cut short, TLS handshake
  //                       failure, no pooled connection free in time
  //   kFailedPrecondition certificate verification failed; a body source ended early
  //   kAborted            the connection was lost and the body could not be rewound to resend
  //   kInvalidArgument    malformed URL, method or header field, unsupported scheme, a body
  //                       with HEAD
  //   kResourceExhausted  a collected body exceeded its limit
  //   (any)               a callback's non-OK status, unchanged
  virtual Result<HttpResponse> Send(const HttpRequest& request,
                                    const ResponseBody& response_body) = 0;
};

// `url` without user info ("user:pass@"), query string and fragment: what error messages and logs
// may show (S3 presigned URLs and Swift temp URLs carry their signatures in the query).
std::string RedactUrl(std::string_view url);

// The status for an HTTP reply code, with detail.http_status set and the message
// "<context>: <reason phrase>". 2xx → OK. Otherwise, by what the caller should do:
//   400, 411, 422 kInvalidArgument   401 kUnauthenticated   403 kPermissionDenied
//   404, 410 kNotFound   405, 501, 505 kUnimplemented   408, 429, 5xx kUnavailable
//   409 kAborted (a concurrent change: retry the operation)
//   412 kFailedPrecondition (If-Match failed: the object changed; retrying will not help)
//   413, 507 kResourceExhausted   416 kOutOfRange   other 1xx/3xx/4xx kFailedPrecondition
//   (this layer never follows redirects), outside 100..599 kUnknown.
// Services refine these with their own error codes (S3 "SlowDown", "BucketNotEmpty").
Status HttpStatusToStatus(int code, std::string_view context);

// "Not Found" for 404, "" for codes without a standard phrase.
std::string_view HttpReasonPhrase(int code);

}  // namespace cairn::http

#endif  // CAIRN_HTTP_HTTP_CLIENT_H_
