// WithRequestLog: wraps a Handler so that every request produces one RequestLogEntry (method,
// path, status, bytes each way, duration) for the caller to print. The path is passed through a
// redactor first, so secrets in paths (Keep +A signatures) never reach a log; headers (tokens)
// and query strings are never logged.
//
// Thread safety: the returned Handler may run concurrently; `sink` and `redact_path` are called
// from the worker threads and must be thread-safe.
#ifndef CAIRN_HTTPD_REQUEST_LOG_H_
#define CAIRN_HTTPD_REQUEST_LOG_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "cairn/httpd/http_server.h"

namespace cairn::httpd {

struct RequestLogEntry {
  std::string method;
  std::string path;  // redacted
  std::string remote_address;
  int status = 0;          // 0 when the handler never answered (the server then sends 500)
  bool completed = false;  // false: the reply was cut short (peer gone, or aborted on purpose)
  uint64_t bytes_in = 0;   // request body bytes read by the handler
  uint64_t bytes_out = 0;  // reply body bytes written
  double milliseconds = 0;
};

using RequestLogSink = std::function<void(const RequestLogEntry& entry)>;
using PathRedactor = std::function<std::string(std::string_view path)>;

// `redact_path` may be empty (paths logged as they are).
Handler WithRequestLog(Handler inner, PathRedactor redact_path, RequestLogSink sink);

// "GET /path 200 in=0 out=1234 5.2ms 127.0.0.1:5555", with " incomplete" appended when cut short.
std::string FormatRequestLogEntry(const RequestLogEntry& entry);

}  // namespace cairn::httpd

#endif  // CAIRN_HTTPD_REQUEST_LOG_H_
