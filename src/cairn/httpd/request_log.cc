#include "cairn/httpd/request_log.h"

#include <chrono>
#include <cstdio>
#include <utility>

namespace cairn::httpd {
namespace {

// Counts what passes through the handler's reader and writer.
class CountingExchange final : public RequestBodyReader, public ResponseWriter {
 public:
  CountingExchange(RequestBodyReader* body, ResponseWriter* writer, RequestLogEntry* entry)
      : body_(body), writer_(writer), entry_(entry) {}

  Result<size_t> Read(std::span<char> out) override {
    Result<size_t> n = body_->Read(out);
    if (n.ok()) entry_->bytes_in += *n;
    return n;
  }
  void SetHeader(std::string_view name, std::string_view value) override {
    writer_->SetHeader(name, value);
  }
  Status Start(int status, uint64_t content_length) override {
    Status s = writer_->Start(status, content_length);
    if (s.ok()) {
      entry_->status = status;
      announced_ = content_length;
    }
    return s;
  }
  Status Write(std::string_view piece) override {
    Status s = writer_->Write(piece);
    if (s.ok()) entry_->bytes_out += piece.size();
    return s;
  }
  uint64_t announced() const { return announced_; }

 private:
  RequestBodyReader* const body_;
  ResponseWriter* const writer_;
  RequestLogEntry* const entry_;
  uint64_t announced_ = 0;
};

}  // namespace

Handler WithRequestLog(Handler inner, PathRedactor redact_path, RequestLogSink sink) {
  return [inner = std::move(inner), redact = std::move(redact_path), sink = std::move(sink)](
             ServerRequest& request, ResponseWriter& response) {
    auto start = std::chrono::steady_clock::now();
    RequestLogEntry entry;
    entry.method = request.method;
    entry.path = redact ? redact(request.path) : request.path;
    entry.remote_address = request.remote_address;
    CountingExchange counting(request.body, &response, &entry);
    RequestBodyReader* original_body = request.body;
    request.body = &counting;
    inner(request, counting);
    request.body = original_body;
    entry.completed =
        entry.status != 0 && (request.method == "HEAD" || entry.bytes_out == counting.announced());
    entry.milliseconds =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (sink) sink(entry);
  };
}

std::string FormatRequestLogEntry(const RequestLogEntry& e) {
  char ms[32];
  std::snprintf(ms, sizeof(ms), "%.1fms", e.milliseconds);
  std::string line = e.method + " " + e.path + " " + std::to_string(e.status) +
                     " in=" + std::to_string(e.bytes_in) + " out=" + std::to_string(e.bytes_out) +
                     " " + ms + " " + e.remote_address;
  if (!e.completed) line += " incomplete";
  return line;
}

}  // namespace cairn::httpd
