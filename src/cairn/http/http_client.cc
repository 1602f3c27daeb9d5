#include "cairn/http/http_client.h"

#include <string>
#include <utility>

namespace cairn::http {

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

RequestBody RequestBody::FromBytes(std::string_view bytes) {
  RequestBody body;
  body.rep_ = bytes;
  return body;
}

RequestBody RequestBody::FromSource(BodySource source, int64_t length, BodyRewinder rewind) {
  RequestBody body;
  body.rep_ = Stream{std::move(source), length < 0 ? kUnknownLength : length, std::move(rewind)};
  return body;
}

int64_t RequestBody::length() const {
  if (is_bytes()) return static_cast<int64_t>(bytes().size());
  if (is_stream()) return std::get<Stream>(rep_).length;
  return 0;
}

bool RequestBody::rewindable() const {
  return !is_stream() || static_cast<bool>(std::get<Stream>(rep_).rewind);
}

Status RequestBody::Rewind() const {
  if (!is_stream()) return Status::OK();
  const Stream& stream = std::get<Stream>(rep_);
  if (!stream.rewind) {
    return FailedPreconditionError("request body is a stream that cannot be rewound");
  }
  return stream.rewind();
}

void HttpHeaders::Add(std::string name, std::string value) {
  entries_.emplace_back(std::move(name), std::move(value));
}

std::optional<std::string_view> HttpHeaders::Get(std::string_view name) const {
  for (const auto& [key, value] : entries_) {
    if (EqualsIgnoreCase(key, name)) return std::string_view(value);
  }
  return std::nullopt;
}

ResponseBody ResponseBody::Collect(size_t max_bytes) {
  ResponseBody body;
  body.max_bytes_ = max_bytes;
  return body;
}

ResponseBody ResponseBody::Stream(BodySink sink, HeadersCallback on_headers) {
  ResponseBody body;
  body.max_bytes_ = kMaxErrorBodyBytes;
  body.sink_ = std::move(sink);
  body.on_headers_ = std::move(on_headers);
  return body;
}

ResponseBody ResponseBody::StreamInto(std::span<char> receive_into, BodySink sink,
                                      HeadersCallback on_headers) {
  ResponseBody body = Stream(std::move(sink), std::move(on_headers));
  body.receive_into_ = receive_into;
  return body;
}

std::string RedactUrl(std::string_view url) {
  // The query and fragment go first: a '@' or '/' inside them must not be taken for user info.
  url = url.substr(0, url.find_first_of("?#"));
  size_t authority = url.find("://");
  authority = authority == std::string_view::npos ? 0 : authority + 3;
  size_t path = url.find('/', authority);
  std::string_view host_part = url.substr(
      authority, path == std::string_view::npos ? std::string_view::npos : path - authority);
  size_t at = host_part.rfind('@');
  std::string out(url.substr(0, authority));
  if (at != std::string_view::npos) {
    out += host_part.substr(at + 1);
    if (path != std::string_view::npos) out += url.substr(path);
  } else {
    out += url.substr(authority);
  }
  return out;
}

std::string_view HttpReasonPhrase(int code) {
  // RFC 9110 §15, the codes object stores and Keep use.
  static constexpr std::pair<int, std::string_view> kPhrases[] = {
      {100, "Continue"},
      {200, "OK"},
      {201, "Created"},
      {202, "Accepted"},
      {204, "No Content"},
      {206, "Partial Content"},
      {301, "Moved Permanently"},
      {302, "Found"},
      {304, "Not Modified"},
      {307, "Temporary Redirect"},
      {308, "Permanent Redirect"},
      {400, "Bad Request"},
      {401, "Unauthorized"},
      {403, "Forbidden"},
      {404, "Not Found"},
      {405, "Method Not Allowed"},
      {408, "Request Timeout"},
      {409, "Conflict"},
      {410, "Gone"},
      {411, "Length Required"},
      {412, "Precondition Failed"},
      {413, "Content Too Large"},
      {416, "Range Not Satisfiable"},
      {422, "Unprocessable Content"},
      {429, "Too Many Requests"},
      {500, "Internal Server Error"},
      {501, "Not Implemented"},
      {502, "Bad Gateway"},
      {503, "Service Unavailable"},
      {504, "Gateway Timeout"},
      {505, "HTTP Version Not Supported"},
      {507, "Insufficient Storage"},
  };
  for (const auto& [number, phrase] : kPhrases) {
    if (number == code) return phrase;
  }
  return "";
}

namespace {

StatusCode CodeForHttpStatus(int code) {
  switch (code) {
    case 400:
    case 411:
    case 422:  // Keep before Arvados 3: bad hash
      return StatusCode::kInvalidArgument;
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
    case 410:
      return StatusCode::kNotFound;
    case 405:
    case 501:
    case 505:
      return StatusCode::kUnimplemented;
    case 408:
    case 429:
      return StatusCode::kUnavailable;
    case 409:
      return StatusCode::kAborted;
    case 412:
      return StatusCode::kFailedPrecondition;
    case 413:
    case 507:
      return StatusCode::kResourceExhausted;
    case 416:
      return StatusCode::kOutOfRange;
    default:
      break;
  }
  if (code >= 500 && code <= 599) return StatusCode::kUnavailable;
  if (code >= 100 && code <= 499) return StatusCode::kFailedPrecondition;
  return StatusCode::kUnknown;
}

}  // namespace

Status HttpStatusToStatus(int code, std::string_view context) {
  if (code >= 200 && code <= 299) return Status::OK();
  std::string message(context);
  message += ": ";
  std::string_view phrase = HttpReasonPhrase(code);
  if (phrase.empty()) {
    message += "HTTP status " + std::to_string(code);
  } else {
    message += phrase;
  }
  ErrorDetail detail;
  detail.http_status = code;
  return Status(CodeForHttpStatus(code), message, std::move(detail));
}

}  // namespace cairn::http
