#include "cairn/http/curl_http_client.h"

#include <curl/curl.h>
#include <poll.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "cairn/common/text.h"

namespace cairn::http {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// curl's upload buffer accepts 16 KiB..2 MiB (CURLOPT_UPLOAD_BUFFERSIZE); the receive buffer up to
// 10 MiB. One range keeps both settable from one option.
constexpr size_t kMinBufferSize = 16 * 1024;
constexpr size_t kMaxBufferSize = 2 * 1024 * 1024;
// How long curl waits for "100 Continue" before sending the body anyway (curl's default).
constexpr long kExpectContinueTimeoutMs = 1000;
// TCP keep-alive probes on idle pooled connections: first after 30 s idle, then every 15 s, so a
// peer that vanished is noticed before the connection is reused (curl's default waits 60 s).
constexpr long kTcpKeepIdleSeconds = 30;
constexpr long kTcpKeepIntervalSeconds = 15;
// The longest reply head (status line and fields) the direct path accepts.
constexpr size_t kMaxDirectHeadBytes = 64 * 1024;

// libcurl must be initialized once per process before any other call, and curl_global_init is
// not itself thread-safe; a function-local static runs it exactly once.
Status GlobalInit() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) {
    return InternalError(std::string("libcurl initialization failed: ") + curl_easy_strerror(rc));
  }
  return Status::OK();
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) { return ToLower(a) == ToLower(b); }

// RFC 9110 §5.6.2 token characters: method and header names.
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    (c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr);
    if (!ok) return false;
  }
  return true;
}

std::string Seconds(Clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f s", std::chrono::duration<double>(d).count());
  return buf;
}

// "scheme://host:port", lower case, default port filled in: the key of an endpoint's pool.
Result<std::string> EndpointKey(const std::string& url, std::string_view context) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed(curl_url(), &curl_url_cleanup);
  if (parsed == nullptr) return ResourceExhaustedError("out of memory parsing a URL");
  if (curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) {
    return InvalidArgumentError(std::string(context) + ": malformed URL");
  }
  auto get = [&parsed](CURLUPart part, unsigned int flags) -> std::string {
    char* value = nullptr;
    if (curl_url_get(parsed.get(), part, &value, flags) != CURLUE_OK || value == nullptr) {
      return "";
    }
    std::string out(value);
    curl_free(value);
    return out;
  };
  std::string scheme = ToLower(get(CURLUPART_SCHEME, 0));
  if (scheme != "http" && scheme != "https") {
    return InvalidArgumentError(std::string(context) +
                                ": unsupported URL scheme (want http or https)");
  }
  std::string host = ToLower(get(CURLUPART_HOST, 0));
  std::string port = get(CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (host.empty()) return InvalidArgumentError(std::string(context) + ": URL has no host");
  return scheme + "://" + host + ":" + port;
}

StatusCode CodeForCurlError(CURLcode rc) {
  switch (rc) {
    // The network or the peer: another attempt may well succeed.
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_SSL_CONNECT_ERROR:  // handshake cut short; a bad certificate has its own codes
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_PROXY:
    case CURLE_AGAIN:
    case CURLE_NO_CONNECTION_AVAILABLE:
    case CURLE_UNRECOVERABLE_POLL:
      return StatusCode::kUnavailable;
    // Certificates and TLS configuration: retrying cannot fix them.
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
      return StatusCode::kFailedPrecondition;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return StatusCode::kInvalidArgument;
    // The connection died and the body could not be rewound to resend it on a new one: only the
    // whole operation (which can rebuild the body) can be retried.
    case CURLE_SEND_FAIL_REWIND:
      return StatusCode::kAborted;
    case CURLE_OUT_OF_MEMORY:
      return StatusCode::kResourceExhausted;
    default:
      return StatusCode::kUnknown;
  }
}

// Everything one Send needs inside curl's callbacks. Lives on Send's stack.
struct Transfer {
  const HttpRequest* request = nullptr;
  const ResponseBody* response_body = nullptr;
  const std::string* context = nullptr;  // "METHOD redacted-url", for messages
  HttpResponse response;

  uint64_t upload_offset = 0;  // request body bytes handed to curl

  // Header fields of the reply being received, moved to response.headers at its end.
  std::vector<std::pair<std::string, std::string>> pending_headers;
  bool final_headers = false;  // the headers of the final (non-1xx) reply are complete
  bool to_sink = false;        // the body goes to the sink (streamed 2xx reply)

  // Why a callback stopped the transfer; when set, Send returns it.
  Status callback_status;

  Clock::duration idle_timeout{};  // zero: no idle check
  Clock::time_point last_progress;
  curl_off_t last_downloaded = -1;
  curl_off_t last_uploaded = -1;
};

size_t ReadCallback(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const RequestBody& body = t->request->body;
  size_t capacity = size * nitems;
  if (body.is_bytes()) {
    std::string_view bytes = body.bytes();
    size_t n = std::min<size_t>(capacity, bytes.size() - t->upload_offset);
    std::memcpy(buffer, bytes.data() + t->upload_offset, n);
    t->upload_offset += n;
    return n;
  }
  if (!body.is_stream()) return 0;
  const int64_t length = body.length();
  if (length >= 0) {
    // Never ask past the declared length: bytes beyond it would corrupt the connection.
    capacity = std::min<uint64_t>(capacity, static_cast<uint64_t>(length) - t->upload_offset);
    if (capacity == 0) return 0;
  }
  Result<size_t> n = body.source()(std::span<char>(buffer, capacity));
  if (!n.ok()) {
    t->callback_status = std::move(n).status();
    return CURL_READFUNC_ABORT;
  }
  if (*n > capacity) {
    t->callback_status =
        InternalError(*t->context + ": request body source returned more bytes than asked for");
    return CURL_READFUNC_ABORT;
  }
  if (*n == 0 && length >= 0) {
    t->callback_status = FailedPreconditionError(*t->context + ": request body ended after " +
                                                 std::to_string(t->upload_offset) + " of " +
                                                 std::to_string(length) + " bytes");
    return CURL_READFUNC_ABORT;
  }
  t->upload_offset += *n;
  return *n;
}

// curl rewinds the body when it must resend the request, e.g. when a reused keep-alive connection
// turns out to have been closed by the server.
int SeekCallback(void* userdata, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(userdata);
  if (origin != SEEK_SET || offset != 0) return CURL_SEEKFUNC_CANTSEEK;
  const RequestBody& body = t->request->body;
  if (!body.rewindable()) return CURL_SEEKFUNC_CANTSEEK;
  Status rewound = body.Rewind();
  if (!rewound.ok()) {
    t->callback_status = std::move(rewound);
    return CURL_SEEKFUNC_FAIL;
  }
  t->upload_offset = 0;
  return CURL_SEEKFUNC_OK;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Called once per header line of every reply (1xx included), then once with the empty line.
size_t HeaderCallback(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const size_t n = size * nitems;
  std::string_view line(buffer, n);
  if (line.starts_with("HTTP/")) {
    // A new status line: an interim 1xx reply's headers are discarded.
    t->pending_headers.clear();
    t->final_headers = false;
    size_t space = line.find(' ');
    int code = 0;
    if (space != std::string_view::npos) {
      for (size_t i = space + 1; i < line.size() && line[i] >= '0' && line[i] <= '9'; ++i) {
        code = code * 10 + (line[i] - '0');
      }
    }
    t->response.status_code = code;
    return n;
  }
  std::string_view trimmed = Trim(line);
  if (trimmed.empty() && (line.empty() || line[0] == '\r' || line[0] == '\n')) {
    if (t->response.status_code >= 200 && !t->final_headers) {
      t->final_headers = true;
      for (auto& [name, value] : t->pending_headers) {
        t->response.headers.Add(std::move(name), std::move(value));
      }
      t->pending_headers.clear();
      const ResponseBody& spec = *t->response_body;
      t->to_sink = spec.streamed() && t->response.status_code / 100 == 2;
      if (spec.on_headers()) {
        Status status = spec.on_headers()(t->response);
        if (!status.ok()) {
          t->callback_status = std::move(status);
          return 0;  // anything but n aborts the transfer
        }
      }
    }
    return n;
  }
  if (t->final_headers) return n;  // chunked trailers: not needed by any caller
  if (line[0] == ' ' || line[0] == '\t') {
    // Obsolete line folding (RFC 9112 §5.2): a continuation of the previous value.
    if (!t->pending_headers.empty()) {
      t->pending_headers.back().second += ' ';
      t->pending_headers.back().second += trimmed;
    }
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  t->pending_headers.emplace_back(Trim(line.substr(0, colon)), Trim(line.substr(colon + 1)));
  return n;
}

size_t WriteCallback(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<Transfer*>(userdata);
  const size_t n = size * nmemb;
  t->response.body_bytes += n;
  const ResponseBody& spec = *t->response_body;
  if (t->to_sink) {
    Status status = spec.sink()(std::string_view(data, n));
    if (!status.ok()) {
      t->callback_status = std::move(status);
      return 0;
    }
    return n;
  }
  std::string& body = t->response.body;
  if (spec.streamed()) {
    // The error document of a non-2xx reply: keep its head, read (and drop) the rest so the
    // connection stays reusable.
    if (body.size() < ResponseBody::kMaxErrorBodyBytes) {
      body.append(data, std::min(n, ResponseBody::kMaxErrorBodyBytes - body.size()));
    }
    return n;
  }
  if (n > spec.max_bytes() - body.size()) {
    ErrorDetail detail;
    detail.http_status = t->response.status_code;
    t->callback_status = Status(StatusCode::kResourceExhausted,
                                *t->context + ": response body exceeds the limit of " +
                                    std::to_string(spec.max_bytes()) + " bytes",
                                std::move(detail));
    return 0;
  }
  body.append(data, n);
  return n;
}

// Called by curl at least once a second while a transfer runs: enforces the idle timeout.
int ProgressCallback(void* userdata, curl_off_t /*dltotal*/, curl_off_t dlnow,
                     curl_off_t /*ultotal*/, curl_off_t ulnow) {
  auto* t = static_cast<Transfer*>(userdata);
  Clock::time_point now = Clock::now();
  if (dlnow != t->last_downloaded || ulnow != t->last_uploaded) {
    t->last_downloaded = dlnow;
    t->last_uploaded = ulnow;
    t->last_progress = now;
    return 0;
  }
  if (t->idle_timeout > Clock::duration::zero() && now - t->last_progress >= t->idle_timeout) {
    t->callback_status = UnavailableError(*t->context + ": no bytes moved for " +
                                          Seconds(now - t->last_progress) + " (idle timeout)");
    return 1;
  }
  return 0;
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

bool AppendLine(Slist& list, const std::string& line) {
  curl_slist* grown = curl_slist_append(list.get(), line.c_str());
  if (grown == nullptr) return false;
  (void)list.release();  // now owned by `grown`
  list.reset(grown);
  return true;
}

// Whether curl runs in upload mode: any body, and PUT and POST even without one (they must send
// "Content-Length: 0").
// Fields the client writes itself from the body (the caller's are ignored, see HttpRequest).
bool DerivedFromBody(std::string_view name) {
  return EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
         EqualsIgnoreCase(name, "Expect");
}

bool HasBody(const HttpRequest& request) {
  return !request.body.empty() || request.method == "PUT" || request.method == "POST";
}

// The header lines curl sends: the caller's fields, checked, less those the body determines.
Result<Slist> HeaderList(const HttpRequest& request, const std::string& context,
                         uint64_t expect_continue_threshold) {
  Slist list;
  for (const auto& [name, value] : request.headers) {
    if (!IsToken(name) || value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      // The value may be a secret: name only the field.
      return InvalidArgumentError(context + ": malformed header field " + QuoteForMessage(name));
    }
    if (DerivedFromBody(name)) continue;
    // curl syntax: "Name;" sends a field with an empty value ("Name:" would remove it).
    if (!AppendLine(list, value.empty() ? name + ";" : name + ": " + value)) {
      return ResourceExhaustedError(context + ": out of memory");
    }
  }
  const int64_t length = request.body.length();
  if (HasBody(request) && length >= 0 &&
      static_cast<uint64_t>(length) < expect_continue_threshold) {
    // "Expect:" removes the "Expect: 100-continue" curl adds to every upload.
    if (!AppendLine(list, "Expect:")) return ResourceExhaustedError(context + ": out of memory");
  }
  return list;
}

// Sets every option of one transfer on a handle that has curl's defaults. `remaining` is the
// overall time left (zero: no deadline). False if curl refused an option.
bool Configure(CURL* handle, const CurlHttpClientOptions& options, CURLSH* share,
               const HttpRequest& request, Transfer* t, curl_slist* headers, char* error_buffer,
               milliseconds remaining) {
  bool ok = true;
  auto set = [&ok, handle](CURLoption option, auto value) {
    if (curl_easy_setopt(handle, option, value) != CURLE_OK) ok = false;
  };
  set(CURLOPT_URL, request.url.c_str());
  set(CURLOPT_SHARE, share);
  set(CURLOPT_NOSIGNAL, 1L);  // no SIGALRM for DNS timeouts: we are one of many threads
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
  set(CURLOPT_TCP_NODELAY, 1L);
  set(CURLOPT_TCP_KEEPALIVE, 1L);
  set(CURLOPT_TCP_KEEPIDLE, kTcpKeepIdleSeconds);
  set(CURLOPT_TCP_KEEPINTVL, kTcpKeepIntervalSeconds);
  set(CURLOPT_MAXCONNECTS, 1L);  // a handle serves one endpoint: one connection to keep
  set(CURLOPT_BUFFERSIZE, static_cast<long>(options.buffer_size));
  set(CURLOPT_UPLOAD_BUFFERSIZE, static_cast<long>(options.buffer_size));
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
  if (remaining.count() > 0) set(CURLOPT_TIMEOUT_MS, static_cast<long>(remaining.count()));
  set(CURLOPT_EXPECT_100_TIMEOUT_MS, kExpectContinueTimeoutMs);
  const bool verify = options.tls_verification == TlsVerification::kVerify;
  set(CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
  set(CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
  if (!options.ca_file.empty()) set(CURLOPT_CAINFO, options.ca_file.c_str());
  set(CURLOPT_PROXY, options.proxy.c_str());  // "" also turns off the environment's proxies
  set(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
  set(CURLOPT_USERAGENT, options.user_agent.c_str());
  set(CURLOPT_HTTPHEADER, headers);
  set(CURLOPT_ERRORBUFFER, error_buffer);
  set(CURLOPT_HEADERFUNCTION, &HeaderCallback);
  set(CURLOPT_HEADERDATA, t);
  set(CURLOPT_WRITEFUNCTION, &WriteCallback);
  set(CURLOPT_WRITEDATA, t);
  set(CURLOPT_XFERINFOFUNCTION, &ProgressCallback);
  set(CURLOPT_XFERINFODATA, t);
  set(CURLOPT_NOPROGRESS, 0L);

  if (request.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else if (HasBody(request)) {
    // Upload mode streams from the read callback for any method, with Content-Length when the
    // length is known and chunked transfer encoding otherwise.
    set(CURLOPT_UPLOAD, 1L);
    set(CURLOPT_READFUNCTION, &ReadCallback);
    set(CURLOPT_READDATA, t);
    set(CURLOPT_SEEKFUNCTION, &SeekCallback);
    set(CURLOPT_SEEKDATA, t);
    set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.length()));
    if (request.method != "PUT") set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method != "GET") {
    set(CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  return ok;
}

// The Status for a failed curl_easy_perform that no callback stopped.
Status TransferError(CURLcode rc, CURL* handle, const HttpRequest& request,
                     const std::string& context, const char* error_buffer, milliseconds timeout,
                     milliseconds remaining, milliseconds connect_timeout) {
  std::string what = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(rc);
  // curl's messages name hosts and ports, not URLs; make sure, as a URL may carry a signature.
  if (what.find(request.url) != std::string::npos || what.find('?') != std::string::npos) {
    what = curl_easy_strerror(rc);
  }
  while (!what.empty() && (what.back() == '\n' || what.back() == '\r')) what.pop_back();
  if (rc == CURLE_OPERATION_TIMEDOUT && remaining.count() > 0) {
    // Two curl timeouts share this code. Past the connection phase only the deadline can fire;
    // before it, whichever of the deadline and the connect timeout is shorter.
    curl_off_t pretransfer_us = 0;
    curl_easy_getinfo(handle, CURLINFO_PRETRANSFER_TIME_T, &pretransfer_us);
    const milliseconds connect_limit =
        connect_timeout.count() > 0 ? connect_timeout : milliseconds(300'000);  // curl's default
    if (pretransfer_us > 0 || remaining <= connect_limit) {
      what = "deadline of " + Seconds(timeout) + " passed (" + what + ")";
    }
  }
  ErrorDetail detail;
  long os_errno = 0;
  if (curl_easy_getinfo(handle, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK) {
    detail.sys_errno = static_cast<int>(os_errno);
  }
  return Status(CodeForCurlError(rc), context + ": " + what, std::move(detail));
}

// --- Direct receive (ResponseBody::StreamInto) ---
//
// A GET whose 2xx body the caller wants in a buffer of its own goes over a connection that curl
// opened with CURLOPT_CONNECT_ONLY (DNS, connect timeout, TLS and its verification stay curl's):
// the request is written and the reply read here with curl_easy_send/curl_easy_recv, so the body
// moves from the socket (or the TLS layer) straight into the caller's buffer instead of through
// curl's receive buffer and a copy — about a quarter of a download's CPU. Only replies framed by
// Content-Length are read this way; one without (chunked) fails with kUnavailable and turns the
// direct path off for its endpoint, so the caller's retry goes through curl.

// The request line's target: the URL from the path on, as given (already percent-encoded).
std::string_view RequestTarget(std::string_view url) {
  size_t scheme_end = url.find("://");
  size_t path = url.find('/', scheme_end == std::string_view::npos ? 0 : scheme_end + 3);
  if (path == std::string_view::npos) return "/";
  return url.substr(path,
                    url.find('#') == std::string_view::npos ? url.npos : url.find('#') - path);
}

// "host[:port]" of an http(s) URL, without user info.
std::string_view Authority(std::string_view url) {
  size_t start = url.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  std::string_view rest = url.substr(start, url.find_first_of("/?#", start) - start);
  size_t at = rest.rfind('@');
  return at == std::string_view::npos ? rest : rest.substr(at + 1);
}

// Waits until `socket` is ready for `events`; false when `deadline` passes first.
bool WaitForSocket(curl_socket_t socket, short events, Clock::time_point deadline) {
  while (true) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{socket, events, 0};
    int rc = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 60'000)));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return true;  // let the next send or recv report the error
  }
}

// One direct exchange on a CONNECT_ONLY handle.
class DirectExchange {
 public:
  DirectExchange(CURL* handle, const std::string& context, milliseconds idle_timeout,
                 Clock::time_point deadline)
      : handle_(handle), context_(context), idle_timeout_(idle_timeout), deadline_(deadline) {
    curl_easy_getinfo(handle_, CURLINFO_ACTIVESOCKET, &socket_);
  }

  Status SendAll(std::string_view bytes) {
    while (!bytes.empty()) {
      size_t n = 0;
      CURLcode rc = curl_easy_send(handle_, bytes.data(), bytes.size(), &n);
      if (rc == CURLE_AGAIN) {
        if (!WaitForSocket(socket_, POLLOUT, NextDeadline())) return Stalled("sending");
        continue;
      }
      if (rc != CURLE_OK) return Failed(rc, "sending the request");
      bytes.remove_prefix(n);
    }
    return Status();
  }

  // Up to `capacity` bytes into `into`; 0 at the end of the stream.
  Result<size_t> Receive(char* into, size_t capacity) {
    while (true) {
      size_t n = 0;
      CURLcode rc = curl_easy_recv(handle_, into, capacity, &n);
      if (rc == CURLE_OK) return n;
      if (rc != CURLE_AGAIN) return Failed(rc, "receiving the reply");
      if (!WaitForSocket(socket_, POLLIN, NextDeadline())) return Stalled("receiving");
    }
  }

 private:
  Clock::time_point NextDeadline() const {
    if (idle_timeout_.count() <= 0) return deadline_;
    return std::min(deadline_, Clock::now() + idle_timeout_);
  }
  Status Stalled(const char* doing) const {
    return UnavailableError(
        context_ + ": no progress " + doing +
        (Clock::now() >= deadline_ ? " before the deadline" : " within the idle timeout"));
  }
  Status Failed(CURLcode rc, const char* doing) const {
    ErrorDetail detail;
    long os_errno = 0;
    if (curl_easy_getinfo(handle_, CURLINFO_OS_ERRNO, &os_errno) == CURLE_OK) {
      detail.sys_errno = static_cast<int>(os_errno);
    }
    return Status(StatusCode::kUnavailable, context_ + ": " + doing + ": " + curl_easy_strerror(rc),
                  std::move(detail));
  }

  CURL* const handle_;
  const std::string& context_;
  const milliseconds idle_timeout_;
  const Clock::time_point deadline_;
  curl_socket_t socket_ = CURL_SOCKET_BAD;
};

// The request as it goes on the wire (header fields already checked by HeaderList).
std::string DirectRequestText(const HttpRequest& request, const std::string& user_agent) {
  std::string text =
      request.method + " " + std::string(RequestTarget(request.url)) + " HTTP/1.1\r\n";
  bool host = false;
  bool agent = false;
  for (const auto& [name, value] : request.headers) {
    if (DerivedFromBody(name)) continue;
    host = host || EqualsIgnoreCase(name, "Host");
    agent = agent || EqualsIgnoreCase(name, "User-Agent");
    text += name + ": " + value + "\r\n";
  }
  if (!host) text += "Host: " + std::string(Authority(request.url)) + "\r\n";
  if (!agent) text += "User-Agent: " + user_agent + "\r\n";
  text += "\r\n";
  return text;
}

// Parses a reply's head (status line and fields, without the blank line).
bool ParseHead(std::string_view head, HttpResponse* response) {
  size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  if (!status_line.starts_with("HTTP/1.")) return false;
  size_t space = status_line.find(' ');
  if (space == std::string_view::npos || status_line.size() < space + 4) return false;
  std::optional<uint64_t> code = ParseDecimal(status_line.substr(space + 1, 3));
  if (!code || *code < 100 || *code > 999) return false;
  response->status_code = static_cast<int>(*code);
  std::vector<std::pair<std::string, std::string>> fields;
  while (eol != std::string_view::npos) {
    size_t start = eol + 2;
    eol = head.find("\r\n", start);
    std::string_view line =
        head.substr(start, eol == std::string_view::npos ? head.npos : eol - start);
    if (line.empty()) continue;
    if ((line[0] == ' ' || line[0] == '\t') && !fields.empty()) {
      fields.back().second += ' ';
      fields.back().second += Trim(line);
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    fields.emplace_back(Trim(line.substr(0, colon)), Trim(line.substr(colon + 1)));
  }
  for (auto& [name, value] : fields) response->headers.Add(std::move(name), std::move(value));
  return true;
}

}  // namespace

struct CurlHttpClient::Shared {
  CURLSH* share = nullptr;
  std::array<std::mutex, CURL_LOCK_DATA_LAST> locks;

  ~Shared() {
    if (share != nullptr) curl_share_cleanup(share);
  }
  static void Lock(CURL* /*handle*/, curl_lock_data data, curl_lock_access /*access*/,
                   void* userptr) {
    static_cast<Shared*>(userptr)->locks[data].lock();
  }
  static void Unlock(CURL* /*handle*/, curl_lock_data data, void* userptr) {
    static_cast<Shared*>(userptr)->locks[data].unlock();
  }
};

// The bounded pool of one endpoint's easy handles (each holding at most one open connection).
struct CurlHttpClient::Endpoint {
  std::string key;
  int max_handles = 1;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<CURL*> idle;  // guarded by mu; used LIFO, so a lone caller keeps one warm connection
  int created = 0;          // guarded by mu; handles in existence, idle or lent out
  // Set when a reply came without Content-Length on the direct path: it is not used again here.
  std::atomic<bool> direct_refused{false};

  ~Endpoint() {
    for (CURL* handle : idle) curl_easy_cleanup(handle);
  }

  // A handle, waiting until `deadline` for one if all are lent out.
  Result<CURL*> Acquire(Clock::time_point deadline, const std::string& context) {
    std::unique_lock lock(mu);
    while (true) {
      if (!idle.empty()) {
        CURL* handle = idle.back();
        idle.pop_back();
        return handle;
      }
      if (created < max_handles) {
        ++created;
        lock.unlock();
        CURL* handle = curl_easy_init();
        if (handle != nullptr) return handle;
        lock.lock();
        --created;
        cv.notify_one();
        return ResourceExhaustedError(context + ": curl_easy_init failed");
      }
      if (cv.wait_until(lock, deadline) == std::cv_status::timeout && idle.empty() &&
          created >= max_handles) {
        return UnavailableError(context + ": all " + std::to_string(max_handles) +
                                " connections to " + key + " stayed busy");
      }
    }
  }

  // Back to the pool with curl's default options: the handle must keep no pointer into the Send
  // that used it (callbacks' data, the error buffer, the header list), since curl may still write
  // to the error buffer when it closes the connection. The connection itself stays open.
  void Release(CURL* handle) {
    curl_easy_reset(handle);
    {
      std::lock_guard lock(mu);
      idle.push_back(handle);
    }
    cv.notify_one();
  }

  // A direct connection (CONNECT_ONLY handle) back to the pool as it is, connected.
  void ReturnConnected(CURL* handle) {
    {
      std::lock_guard lock(mu);
      idle.push_back(handle);
    }
    cv.notify_one();
  }

  // A handle and its connection closed, making room for a new one.
  void Discard(CURL* handle) {
    curl_easy_cleanup(handle);
    {
      std::lock_guard lock(mu);
      --created;
    }
    cv.notify_one();
  }

  // Gives a handle back when Send ends, however it ends.
  class Lease {
   public:
    Lease(Endpoint* endpoint, CURL* handle) : endpoint_(endpoint), handle_(handle) {}
    ~Lease() { endpoint_->Release(handle_); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

   private:
    Endpoint* endpoint_;
    CURL* handle_;
  };
};

Result<std::unique_ptr<CurlHttpClient>> CurlHttpClient::Create(
    const CurlHttpClientOptions& options) {
  if (options.max_connections_per_endpoint < 1) {
    return InvalidArgumentError("http client: max_connections_per_endpoint must be at least 1");
  }
  if (options.buffer_size < kMinBufferSize || options.buffer_size > kMaxBufferSize) {
    return InvalidArgumentError("http client: buffer_size must be 16 KiB..2 MiB");
  }
  if (options.pool_wait_timeout.count() < 0 || options.connect_timeout.count() < 0 ||
      options.idle_timeout.count() < 0 || options.request_timeout.count() < 0) {
    return InvalidArgumentError("http client: timeouts must not be negative");
  }
  CAIRN_RETURN_IF_ERROR(GlobalInit());
  std::unique_ptr<CurlHttpClient> client(new CurlHttpClient(options));
  Shared& shared = *client->shared_;
  shared.share = curl_share_init();
  if (shared.share == nullptr) return InternalError("http client: curl_share_init failed");
  if (curl_share_setopt(shared.share, CURLSHOPT_LOCKFUNC, &Shared::Lock) != CURLSHE_OK ||
      curl_share_setopt(shared.share, CURLSHOPT_UNLOCKFUNC, &Shared::Unlock) != CURLSHE_OK ||
      curl_share_setopt(shared.share, CURLSHOPT_USERDATA, &shared) != CURLSHE_OK ||
      curl_share_setopt(shared.share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
      curl_share_setopt(shared.share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
    return InternalError("http client: curl_share_setopt failed");
  }
  return client;
}

namespace {
CurlHttpClientOptions WithDefaults(CurlHttpClientOptions options) {
  if (options.user_agent.empty()) options.user_agent = "cairn/" CAIRN_VERSION;
  return options;
}
}  // namespace

CurlHttpClient::CurlHttpClient(const CurlHttpClientOptions& options)
    : options_(WithDefaults(options)), shared_(std::make_unique<Shared>()) {}

// endpoints_ (and with it every easy handle) goes before shared_: handles refer to the share.
CurlHttpClient::~CurlHttpClient() { endpoints_.clear(); }

CurlHttpClient::Endpoint* CurlHttpClient::EndpointFor(const std::string& key) {
  std::lock_guard lock(endpoints_mu_);
  std::unique_ptr<Endpoint>& endpoint = endpoints_[key];
  if (endpoint == nullptr) {
    endpoint = std::make_unique<Endpoint>();
    endpoint->key = key;
    endpoint->max_handles = options_.max_connections_per_endpoint;
  }
  return endpoint.get();
}

int CurlHttpClient::ConnectionsForEndpoint(std::string_view url) const {
  Result<std::string> key = EndpointKey(std::string(url), "");
  if (!key.ok()) return 0;
  std::lock_guard lock(endpoints_mu_);
  auto it = endpoints_.find(*key);
  if (it == endpoints_.end()) return 0;
  std::lock_guard endpoint_lock(it->second->mu);
  return it->second->created;
}

Result<HttpResponse> CurlHttpClient::Send(const HttpRequest& request,
                                          const ResponseBody& response_body) {
  const Clock::time_point start = Clock::now();
  const std::string context =
      request.method + " " +
      (request.url_for_messages.empty() ? RedactUrl(request.url) : request.url_for_messages);
  if (!IsToken(request.method)) return InvalidArgumentError(context + ": malformed HTTP method");
  if (request.method == "HEAD" && !request.body.empty()) {
    return InvalidArgumentError(context + ": a HEAD request cannot have a body");
  }
  CAIRN_ASSIGN_OR_RETURN(Slist headers,
                         HeaderList(request, context, options_.expect_continue_threshold));
  CAIRN_ASSIGN_OR_RETURN(std::string key, EndpointKey(request.url, context));

  const milliseconds timeout =
      request.timeout.count() > 0 ? request.timeout : options_.request_timeout;
  Clock::time_point pool_deadline = start + options_.pool_wait_timeout;
  if (timeout.count() > 0) pool_deadline = std::min(pool_deadline, start + timeout);
  Endpoint* endpoint = EndpointFor(key);
  if (!response_body.receive_into().empty() && request.method == "GET" && request.body.empty() &&
      options_.proxy.empty() && !endpoint->direct_refused.load()) {
    const Clock::time_point deadline =
        timeout.count() > 0 ? start + timeout : start + std::chrono::hours(24 * 365);
    return SendDirect(request, response_body, context, endpoint, pool_deadline, deadline);
  }
  CAIRN_ASSIGN_OR_RETURN(CURL * handle, endpoint->Acquire(pool_deadline, context));
  Endpoint::Lease lease(endpoint, handle);

  // The time curl gets for the whole transfer; zero: no deadline.
  milliseconds remaining{0};
  if (timeout.count() > 0) {
    remaining = std::chrono::duration_cast<milliseconds>(start + timeout - Clock::now());
    if (remaining.count() <= 0) {
      return UnavailableError(context + ": deadline of " + Seconds(timeout) +
                              " passed while waiting for a connection");
    }
  }
  Transfer t;
  t.request = &request;
  t.response_body = &response_body;
  t.context = &context;
  t.idle_timeout = options_.idle_timeout;
  char error_buffer[CURL_ERROR_SIZE] = {0};
  // The handle has curl's default options (Endpoint::Release resets them) and may hold an open
  // connection to the endpoint, which the reset keeps.
  if (!Configure(handle, options_, shared_->share, request, &t, headers.get(), error_buffer,
                 remaining)) {
    return InternalError(context + ": curl_easy_setopt failed");
  }
  t.last_progress = Clock::now();
  const CURLcode rc = curl_easy_perform(handle);
  if (rc == CURLE_OK) {
    long code = 0;
    curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &code);
    t.response.status_code = static_cast<int>(code);
    return std::move(t.response);
  }
  if (!t.callback_status.ok()) return std::move(t.callback_status);
  return TransferError(rc, handle, request, context, error_buffer, timeout, remaining,
                       options_.connect_timeout);
}

Result<HttpResponse> CurlHttpClient::SendDirect(const HttpRequest& request,
                                                const ResponseBody& response_body,
                                                const std::string& context, Endpoint* main,
                                                Clock::time_point pool_deadline,
                                                Clock::time_point deadline) {
  Endpoint* endpoint = EndpointFor("direct " + main->key);
  const std::string text = DirectRequestText(request, options_.user_agent);
  // A pooled connection that the server closed while it was idle fails before the first reply
  // byte; the request then goes once more on a new connection.
  for (int attempt = 0;; ++attempt) {
    CAIRN_ASSIGN_OR_RETURN(CURL * handle, endpoint->Acquire(pool_deadline, context));
    curl_socket_t socket = CURL_SOCKET_BAD;
    curl_easy_getinfo(handle, CURLINFO_ACTIVESOCKET, &socket);
    bool reused = socket != CURL_SOCKET_BAD;
    if (reused) {
      // Readable while idle: the server closed it (or sent something unasked). Start afresh.
      pollfd p{socket, POLLIN, 0};
      if (::poll(&p, 1, 0) != 0) {
        endpoint->Discard(handle);
        CAIRN_ASSIGN_OR_RETURN(handle, endpoint->Acquire(pool_deadline, context));
        socket = CURL_SOCKET_BAD;
        curl_easy_getinfo(handle, CURLINFO_ACTIVESOCKET, &socket);
        reused = socket != CURL_SOCKET_BAD;
      }
    }
    if (!reused) {
      curl_easy_reset(handle);
      char error_buffer[CURL_ERROR_SIZE] = {0};
      const std::string base =
          request.url.substr(0, request.url.size() - RequestTarget(request.url).size());
      milliseconds connect_limit = options_.connect_timeout;
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (connect_limit.count() == 0 || left < connect_limit) connect_limit = left;
      if (connect_limit.count() <= 0) {
        endpoint->Discard(handle);
        return UnavailableError(context + ": deadline passed before connecting");
      }
      const bool verify = options_.tls_verification == TlsVerification::kVerify;
      bool ok = true;
      auto set = [&ok, handle](CURLoption option, auto value) {
        ok = ok && curl_easy_setopt(handle, option, value) == CURLE_OK;
      };
      set(CURLOPT_URL, base.c_str());
      set(CURLOPT_CONNECT_ONLY, 1L);
      set(CURLOPT_SHARE, shared_->share);
      set(CURLOPT_NOSIGNAL, 1L);
      set(CURLOPT_PROTOCOLS_STR, "http,https");
      set(CURLOPT_TCP_NODELAY, 1L);
      set(CURLOPT_TCP_KEEPALIVE, 1L);
      set(CURLOPT_TCP_KEEPIDLE, kTcpKeepIdleSeconds);
      set(CURLOPT_TCP_KEEPINTVL, kTcpKeepIntervalSeconds);
      set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_limit.count()));
      set(CURLOPT_SSL_VERIFYPEER, verify ? 1L : 0L);
      set(CURLOPT_SSL_VERIFYHOST, verify ? 2L : 0L);
      if (!options_.ca_file.empty()) set(CURLOPT_CAINFO, options_.ca_file.c_str());
      set(CURLOPT_PROXY, "");
      set(CURLOPT_ERRORBUFFER, error_buffer);
      if (!ok) {
        endpoint->Discard(handle);
        return InternalError(context + ": curl_easy_setopt failed");
      }
      const CURLcode rc = curl_easy_perform(handle);
      if (rc != CURLE_OK) {
        Status s = TransferError(rc, handle, request, context, error_buffer, milliseconds(0),
                                 milliseconds(0), options_.connect_timeout);
        endpoint->Discard(handle);
        return s;
      }
      // The handle outlives this frame in the pool: it must not keep the buffer's address.
      curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, nullptr);
    }

    DirectExchange exchange(handle, context, options_.idle_timeout, deadline);
    auto fail = [&](Status s) {
      endpoint->Discard(handle);
      return s;
    };
    if (Status sent = exchange.SendAll(text); !sent.ok()) {
      if (reused && attempt == 0) {
        endpoint->Discard(handle);
        continue;
      }
      return fail(sent);
    }
    // The reply's head (interim 1xx replies skipped); what follows it is the body's start.
    HttpResponse response;
    std::string received;
    size_t head_end = std::string::npos;
    char chunk[16 * 1024];
    bool closed_early = false;
    while (true) {
      while ((head_end = received.find("\r\n\r\n")) == std::string::npos) {
        if (received.size() > kMaxDirectHeadBytes) {
          return fail(UnavailableError(context + ": the reply's head exceeds " +
                                       std::to_string(kMaxDirectHeadBytes) + " bytes"));
        }
        Result<size_t> n = exchange.Receive(chunk, sizeof chunk);
        if (!n.ok()) return fail(n.status());
        if (*n == 0) {
          closed_early = true;
          break;
        }
        received.append(chunk, *n);
      }
      if (closed_early) break;
      response = HttpResponse();
      if (!ParseHead(std::string_view(received).substr(0, head_end), &response)) {
        return fail(UnavailableError(context + ": malformed reply head"));
      }
      received.erase(0, head_end + 4);
      if (response.status_code >= 200) break;
    }
    if (closed_early) {
      if (reused && attempt == 0 && received.empty()) {
        endpoint->Discard(handle);
        continue;
      }
      return fail(UnavailableError(context + ": the connection closed before a complete reply"));
    }
    std::optional<uint64_t> length;
    if (std::optional<std::string_view> v = response.headers.Get("Content-Length")) {
      length = ParseDecimal(*v);
    }
    const bool chunked = response.headers.Get("Transfer-Encoding").has_value();
    const bool two_xx = response.status_code / 100 == 2;
    if (two_xx && (chunked || !length)) {
      main->direct_refused.store(true);
      return fail(UnavailableError(context + ": the reply has no Content-Length; it is asked for "
                                             "again the usual way"));
    }
    bool keep = !chunked && length.has_value();
    if (std::optional<std::string_view> c = response.headers.Get("Connection")) {
      keep = keep && !EqualsIgnoreCase(*c, "close");
    }
    if (two_xx) {
      if (response_body.on_headers()) {
        if (Status s = response_body.on_headers()(response); !s.ok()) return fail(s);
      }
      const std::span<char> into = response_body.receive_into();
      if (*length > into.size()) {
        return fail(DataLossError(context + ": the reply holds " + std::to_string(*length) +
                                  " bytes, more than the " + std::to_string(into.size()) +
                                  " expected"));
      }
      if (received.size() > *length) {
        return fail(UnavailableError(context + ": bytes past the end of the reply"));
      }
      uint64_t got = received.size();
      if (got > 0) {
        std::memcpy(into.data(), received.data(), got);
        if (Status s = response_body.sink()(std::string_view(into.data(), got)); !s.ok()) {
          return fail(s);
        }
      }
      while (got < *length) {
        Result<size_t> n = exchange.Receive(into.data() + got, *length - got);
        if (!n.ok()) return fail(n.status());
        if (*n == 0) {
          return fail(UnavailableError(context + ": the connection closed after " +
                                       std::to_string(got) + " of " + std::to_string(*length) +
                                       " body bytes"));
        }
        Status s = response_body.sink()(std::string_view(into.data() + got, *n));
        got += *n;
        if (!s.ok()) return fail(s);
      }
      response.body_bytes = got;
    } else {
      // An error document: its head is kept, the rest read and dropped (or the connection closed
      // when there is much of it or no length).
      const uint64_t want = length.value_or(ResponseBody::kMaxErrorBodyBytes);
      if (!length || *length > ResponseBody::kMaxErrorBodyBytes) keep = false;
      while (received.size() < std::min<uint64_t>(want, ResponseBody::kMaxErrorBodyBytes)) {
        Result<size_t> n = exchange.Receive(chunk, sizeof chunk);
        if (!n.ok() || *n == 0) {
          keep = false;
          break;
        }
        received.append(chunk, *n);
      }
      if (length && received.size() > *length) keep = false;
      response.body_bytes = received.size();
      received.resize(std::min<size_t>(received.size(), ResponseBody::kMaxErrorBodyBytes));
      response.body = std::move(received);
    }
    if (keep) {
      endpoint->ReturnConnected(handle);
    } else {
      endpoint->Discard(handle);
    }
    return response;
  }
}

}  // namespace cairn::http
