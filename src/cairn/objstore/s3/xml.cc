#include "cairn/objstore/s3/xml.h"

#include <pugixml.hpp>

#include <charconv>
#include <cstdio>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "cairn/common/text.h"

namespace cairn::objstore::s3 {
namespace {

// pugixml's defaults (entities, CDATA, end-of-line normalization) plus whitespace-only text when
// it is an element's only child: a key may be " ", and dropping it would list a different key.
// Indentation between elements (text with element siblings) is still dropped.
constexpr unsigned kParseOptions = pugi::parse_default | pugi::parse_ws_pcdata_single;

constexpr std::string_view kXmlDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
constexpr std::string_view kS3Namespace = "http://s3.amazonaws.com/doc/2006-03-01/";

// Error messages quote server text cut to these many bytes: enough to recognize, not a page.
constexpr size_t kMaxCodeBytes = 64;
constexpr size_t kMaxMessageBytes = 512;
constexpr size_t kMaxExcerptBytes = 200;
// Text gathered from a non-S3 error body before it is cleaned and cut to kMaxExcerptBytes.
constexpr size_t kMaxGatheredTextBytes = 2048;

std::string Concat(std::initializer_list<std::string_view> parts) {
  size_t size = 0;
  for (std::string_view p : parts) size += p.size();
  std::string out;
  out.reserve(size);
  for (std::string_view p : parts) out += p;
  return out;
}

bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] - 'A' + 'a') : b[i];
    if (x != y) return false;
  }
  return true;
}

std::string_view TrimAsciiWhitespace(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Reading the tree

// The element name without a namespace prefix ("s3:Key" → "Key").
std::string_view LocalName(const pugi::xml_node& node) {
  std::string_view name = node.name();
  size_t colon = name.rfind(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

bool IsText(const pugi::xml_node& node) {
  return node.type() == pugi::node_pcdata || node.type() == pugi::node_cdata;
}

// The text of `node`: all of its PCDATA and CDATA children, entities decoded. (pugixml's
// child_value() returns only the first, which would cut "a<![CDATA[<]]>b" to "a".)
std::string Text(const pugi::xml_node& node) {
  pugi::xml_node child = node.first_child();
  if (!child) return {};
  if (!child.next_sibling()) return IsText(child) ? std::string(child.value()) : std::string();
  std::string out;
  for (; child; child = child.next_sibling()) {
    if (IsText(child)) out += child.value();
  }
  return out;
}

pugi::xml_node FirstChildNamed(const pugi::xml_node& node, std::string_view local_name) {
  for (pugi::xml_node child : node.children()) {
    if (child.type() == pugi::node_element && LocalName(child) == local_name) return child;
  }
  return {};
}

void ReadErrorFields(const pugi::xml_node& error, S3Error* out) {
  static constexpr std::pair<std::string_view, std::string S3Error::*> kFields[] = {
      {"Code", &S3Error::code},
      {"Message", &S3Error::message},
      {"RequestId", &S3Error::request_id},
      {"HostId", &S3Error::host_id},
      {"Resource", &S3Error::resource},
      {"Key", &S3Error::key},
      {"BucketName", &S3Error::bucket_name},
      {"UploadId", &S3Error::upload_id},
      {"Endpoint", &S3Error::endpoint},
      {"CanonicalRequest", &S3Error::canonical_request},
      {"StringToSign", &S3Error::string_to_sign},
  };
  for (pugi::xml_node child : error.children()) {
    if (child.type() != pugi::node_element) continue;
    std::string_view name = LocalName(child);
    for (const auto& [field_name, member] : kFields) {
      if (name == field_name) {
        out->*member = Text(child);
        break;
      }
    }
  }
}

Status BadValue(std::string_view op, const pugi::xml_node& node, std::string_view what) {
  return InvalidArgumentError(
      Concat({op, ": <", LocalName(node), "> ", QuoteForMessage(Text(node)), " is not ", what}));
}

Result<int64_t> ReadInt(std::string_view op, const pugi::xml_node& node, int64_t min, int64_t max) {
  std::string text = Text(node);
  std::string_view digits = TrimAsciiWhitespace(text);
  int64_t value = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || value < min ||
      value > max) {
    return BadValue(
        op, node,
        max == std::numeric_limits<int64_t>::max()
            ? Concat({"an integer >= ", std::to_string(min)})
            : Concat({"an integer in ", std::to_string(min), "..", std::to_string(max)}));
  }
  return value;
}

Result<int32_t> ReadInt32(std::string_view op, const pugi::xml_node& node, int32_t min) {
  CAIRN_ASSIGN_OR_RETURN(int64_t value,
                         ReadInt(op, node, min, std::numeric_limits<int32_t>::max()));
  return static_cast<int32_t>(value);
}

Result<bool> ReadBool(std::string_view op, const pugi::xml_node& node) {
  std::string text = Text(node);
  std::string_view value = TrimAsciiWhitespace(text);
  // xsd:boolean also allows 1 and 0.
  if (EqualsIgnoreAsciiCase(value, "true") || value == "1") return true;
  if (EqualsIgnoreAsciiCase(value, "false") || value == "0") return false;
  return BadValue(op, node, "true or false");
}

Result<Timestamp> ReadTimestamp(std::string_view op, const pugi::xml_node& node) {
  Timestamp time;
  time.text = Text(node);
  Result<int64_t> seconds = ParseS3Timestamp(TrimAsciiWhitespace(time.text));
  if (!seconds.ok()) return BadValue(op, node, "a timestamp");
  time.unix_seconds = *seconds;
  return time;
}

// ETags are quoted in S3's XML ("\"abc\"", or &quot;abc&quot;); callers compare bare hex.
std::string ReadEtag(const pugi::xml_node& node) {
  std::string etag = Text(node);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    return etag.substr(1, etag.size() - 2);
  }
  return etag;
}

// Loads `body` into `doc` and returns its root element, which must have one of the local names in
// `roots`. A root <Error> is returned as the error it reports: S3 sends those after "200 OK".
Result<pugi::xml_node> LoadRoot(std::string_view op, std::string_view body,
                                std::initializer_list<std::string_view> roots,
                                pugi::xml_document* doc) {
  pugi::xml_parse_result parsed =
      doc->load_buffer(body.data(), body.size(), kParseOptions, pugi::encoding_utf8);
  if (!parsed) {
    return InvalidArgumentError(Concat({op, ": malformed XML: ", parsed.description(),
                                        " at offset ", std::to_string(parsed.offset)}));
  }
  pugi::xml_node root = doc->document_element();
  // pugixml accepts elements after the root; XML does not, and they mean a garbled body.
  for (pugi::xml_node next = root.next_sibling(); next; next = next.next_sibling()) {
    if (next.type() == pugi::node_element) {
      return InvalidArgumentError(
          Concat({op, ": malformed XML: a second root element <", next.name(), ">"}));
    }
  }
  std::string_view name = LocalName(root);
  for (std::string_view expected : roots) {
    if (name == expected) return root;
  }
  if (name == "Error") {
    S3Error error;
    ReadErrorFields(root, &error);
    return S3ErrorToStatus(200, error, op);
  }
  return InvalidArgumentError(
      Concat({op, ": expected <", *roots.begin(), ">, got <", root.name(), ">"}));
}

// Percent-decoding of EncodingType=url values. AWS encodes a space as '+' (and '+' as %2B); RGW
// encodes both as %XX; so '+' is a space either way.
Status UrlDecodeInPlace(std::string_view op, std::string* value) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(value->size());
  for (size_t i = 0; i < value->size(); ++i) {
    char c = (*value)[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else {
      int hi = i + 2 < value->size() ? hex((*value)[i + 1]) : -1;
      int lo = hi >= 0 ? hex((*value)[i + 2]) : -1;
      if (lo < 0) {
        return InvalidArgumentError(Concat(
            {op, ": ", QuoteForMessage(*value), " is not URL-encoded (EncodingType is url)"}));
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
  }
  *value = std::move(out);
  return Status();
}

bool IsUrlEncoding(std::string_view encoding_type) {
  return EqualsIgnoreAsciiCase(TrimAsciiWhitespace(encoding_type), "url");
}

Status UrlDecodeAll(std::string_view op, std::initializer_list<std::string*> values,
                    std::vector<std::string>* common_prefixes) {
  for (std::string* value : values) CAIRN_RETURN_IF_ERROR(UrlDecodeInPlace(op, value));
  for (std::string& prefix : *common_prefixes) CAIRN_RETURN_IF_ERROR(UrlDecodeInPlace(op, &prefix));
  return Status();
}

Status TruncatedWithoutMarker(std::string_view op, std::string_view marker) {
  return InvalidArgumentError(
      Concat({op, ": the page is truncated but has no <", marker, "> to continue from"}));
}

// ---------------------------------------------------------------------------------------------
// Error bodies

bool IsInvisibleHtml(const pugi::xml_node& node) {
  std::string_view name = LocalName(node);
  return EqualsIgnoreAsciiCase(name, "script") || EqualsIgnoreAsciiCase(name, "style");
}

// The text of a (possibly partial) document in document order, without script and style, up to
// about `limit` bytes. Walks the tree iteratively: a hostile body may nest elements deeply.
std::string GatherText(const pugi::xml_node& top, size_t limit) {
  std::string out;
  pugi::xml_node node = top.first_child();
  while (node && out.size() < limit) {
    if (IsText(node)) {
      if (!out.empty()) out.push_back(' ');
      out += node.value();
    }
    if (node.first_child() && !IsInvisibleHtml(node)) {
      node = node.first_child();
      continue;
    }
    while (node != top && !node.next_sibling()) node = node.parent();
    if (node == top) break;
    node = node.next_sibling();
  }
  return out;
}

// `text` fit for one line of an error message: control characters and whitespace runs become one
// space, bytes that are not UTF-8 become '?', and it is cut after `max_bytes` with "…".
std::string OneLine(std::string_view text, size_t max_bytes) {
  std::string out;
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  size_t i = 0;
  bool pending_space = false;
  while (i < text.size()) {
    size_t len = p[i] < 0x80 ? 1 : Utf8SequenceLength(p + i, text.size() - i);
    // C1 controls (U+0080..U+009F) count as control characters too.
    bool control = p[i] < 0x20 || p[i] == 0x7f || (len == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0);
    if (control || p[i] == ' ') {
      pending_space = !out.empty();
      i += len == 0 ? 1 : len;
      continue;
    }
    size_t add = len == 0 ? 1 : len;
    if (out.size() + (pending_space ? 1 : 0) + add > max_bytes) {
      out += "…";
      return out;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    if (len == 0) {
      out.push_back('?');
    } else {
      out.append(text.data() + i, len);
    }
    i += add;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Status codes

struct CodeMapping {
  std::string_view s3_code;
  StatusCode code;
};

// S3 error codes (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html) and RGW's,
// grouped by what the caller should do. Codes not listed fall back to the HTTP status.
constexpr CodeMapping kCodeMappings[] = {
    // Transient: the same request may succeed.
    {"SlowDown", StatusCode::kUnavailable},
    {"ServiceUnavailable", StatusCode::kUnavailable},
    {"InternalError", StatusCode::kUnavailable},
    {"RequestTimeout", StatusCode::kUnavailable},  // 400, but "retry the request"
    {"IncompleteBody", StatusCode::kUnavailable},  // the body was cut in transit
    {"TemporaryRedirect", StatusCode::kUnavailable},
    {"Throttling", StatusCode::kUnavailable},
    {"ThrottlingException", StatusCode::kUnavailable},
    {"RequestThrottled", StatusCode::kUnavailable},
    {"TooManyRequests", StatusCode::kUnavailable},
    // A concurrent operation on the same resource won: redo the whole operation.
    {"OperationAborted", StatusCode::kAborted},
    {"ConditionalRequestConflict", StatusCode::kAborted},
    {"NoSuchKey", StatusCode::kNotFound},
    {"NoSuchBucket", StatusCode::kNotFound},
    {"NoSuchUpload", StatusCode::kNotFound},
    {"NoSuchVersion", StatusCode::kNotFound},
    {"NoSuchBucketPolicy", StatusCode::kNotFound},
    {"NoSuchLifecycleConfiguration", StatusCode::kNotFound},
    {"NoSuchTagSet", StatusCode::kNotFound},
    {"AccessDenied", StatusCode::kPermissionDenied},
    {"SignatureDoesNotMatch", StatusCode::kPermissionDenied},
    {"InvalidAccessKeyId", StatusCode::kPermissionDenied},
    {"AllAccessDisabled", StatusCode::kPermissionDenied},
    {"AccountProblem", StatusCode::kPermissionDenied},
    {"UserSuspended", StatusCode::kPermissionDenied},  // RGW
    {"ExpiredToken", StatusCode::kUnauthenticated},
    {"InvalidToken", StatusCode::kUnauthenticated},
    {"TokenRefreshRequired", StatusCode::kUnauthenticated},
    {"PreconditionFailed", StatusCode::kFailedPrecondition},
    {"BucketNotEmpty", StatusCode::kFailedPrecondition},
    {"InvalidObjectState", StatusCode::kFailedPrecondition},    // archived: restore first
    {"RequestTimeTooSkewed", StatusCode::kFailedPrecondition},  // fix the clock, then retry
    {"PermanentRedirect", StatusCode::kFailedPrecondition},     // another region or endpoint
    {"MethodNotAllowed", StatusCode::kFailedPrecondition},
    {"InvalidBucketState", StatusCode::kFailedPrecondition},
    {"BadDigest", StatusCode::kDataLoss},
    {"InvalidDigest", StatusCode::kDataLoss},
    {"XAmzContentSHA256Mismatch", StatusCode::kDataLoss},
    {"EntityTooSmall", StatusCode::kInvalidArgument},
    {"EntityTooLarge", StatusCode::kInvalidArgument},
    {"InvalidPart", StatusCode::kInvalidArgument},
    {"InvalidPartOrder", StatusCode::kInvalidArgument},
    {"InvalidArgument", StatusCode::kInvalidArgument},
    {"MalformedXML", StatusCode::kInvalidArgument},
    {"InvalidRequest", StatusCode::kInvalidArgument},
    {"InvalidBucketName", StatusCode::kInvalidArgument},
    {"KeyTooLongError", StatusCode::kInvalidArgument},
    {"MetadataTooLarge", StatusCode::kInvalidArgument},
    {"MissingContentLength", StatusCode::kInvalidArgument},
    {"AuthorizationHeaderMalformed", StatusCode::kInvalidArgument},
    {"BucketAlreadyOwnedByYou", StatusCode::kAlreadyExists},
    {"BucketAlreadyExists", StatusCode::kAlreadyExists},
    {"InvalidRange", StatusCode::kOutOfRange},
    {"QuotaExceeded", StatusCode::kResourceExhausted},  // RGW user or bucket quota
    {"TooManyBuckets", StatusCode::kResourceExhausted},
    {"NotImplemented", StatusCode::kUnimplemented},
};

StatusCode CodeForHttpStatus(int http_status) {
  switch (http_status) {
    case 301:
    case 308:
      return StatusCode::kFailedPrecondition;  // the bucket lives elsewhere
    case 302:
    case 303:
    case 307:
      return StatusCode::kUnavailable;
    case 401:
      return StatusCode::kUnauthenticated;
    case 403:
      return StatusCode::kPermissionDenied;
    case 404:
      return StatusCode::kNotFound;
    case 408:
    case 429:
      return StatusCode::kUnavailable;
    case 409:
      return StatusCode::kAborted;
    case 412:
      return StatusCode::kFailedPrecondition;
    case 416:
      return StatusCode::kOutOfRange;
    case 501:
      return StatusCode::kUnimplemented;
    default:
      break;
  }
  if (http_status >= 500 && http_status <= 599) return StatusCode::kUnavailable;
  if (http_status >= 400 && http_status <= 499) return StatusCode::kInvalidArgument;
  return StatusCode::kUnknown;
}

StatusCode CodeFor(int http_status, std::string_view s3_code) {
  for (const CodeMapping& mapping : kCodeMappings) {
    if (mapping.s3_code == s3_code) return mapping.code;
  }
  return CodeForHttpStatus(http_status);
}

// ---------------------------------------------------------------------------------------------
// Timestamps

bool IsLeapYear(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[m - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// A cursor over timestamp text.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool Done() const { return pos_ == text_.size(); }
  bool Peek(char c) const { return pos_ < text_.size() && text_[pos_] == c; }
  bool Take(char c) {
    if (!Peek(c)) return false;
    ++pos_;
    return true;
  }
  bool TakeEither(char a, char b) { return Take(a) || Take(b); }
  bool TakeWord(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }
  // Exactly `count` digits; consumes nothing when they are not there.
  bool Digits(int count, int* value) {
    if (text_.size() - pos_ < static_cast<size_t>(count)) return false;
    int v = 0;
    for (int i = 0; i < count; ++i) {
      char c = text_[pos_ + i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    pos_ += count;
    *value = v;
    return true;
  }
  void SkipDigits() {
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
  }
  size_t pos() const { return pos_; }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

struct CivilTime {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int offset_seconds = 0;  // east of UTC
};

bool ScanIso8601(std::string_view text, CivilTime* t) {
  Scanner s(text);
  if (!s.Digits(4, &t->year) || !s.Take('-') || !s.Digits(2, &t->month) || !s.Take('-') ||
      !s.Digits(2, &t->day) || !s.TakeEither('T', 't') || !s.Digits(2, &t->hour) || !s.Take(':') ||
      !s.Digits(2, &t->minute) || !s.Take(':') || !s.Digits(2, &t->second)) {
    return false;
  }
  if (s.Take('.')) {
    size_t start = s.pos();
    s.SkipDigits();
    if (s.pos() == start) return false;
  }
  if (s.Done()) return true;  // no zone: S3 means UTC ("2009-10-28T22:32:00" in CopyObject's docs)
  if (s.TakeEither('Z', 'z')) return s.Done();
  bool east = s.Take('+');
  if (!east && !s.Take('-')) return false;
  int hours = 0;
  int minutes = 0;
  if (!s.Digits(2, &hours)) return false;
  s.Take(':');
  if (!s.Digits(2, &minutes) || !s.Done() || hours > 23 || minutes > 59) return false;
  t->offset_seconds = (east ? 1 : -1) * (hours * 3600 + minutes * 60);
  return true;
}

bool ScanRfc1123(std::string_view text, CivilTime* t) {
  static constexpr std::string_view kWeekdays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  Scanner s(text);
  bool weekday = false;
  for (std::string_view w : kWeekdays) weekday = weekday || s.TakeWord(w);
  if (!weekday || !s.Take(',') || !s.Take(' ')) return false;
  if (!s.Digits(2, &t->day) && !s.Digits(1, &t->day)) return false;
  if (!s.Take(' ')) return false;
  for (int m = 0; m < 12 && t->month == 0; ++m) {
    if (s.TakeWord(kMonths[m])) t->month = m + 1;
  }
  return t->month != 0 && s.Take(' ') && s.Digits(4, &t->year) && s.Take(' ') &&
         s.Digits(2, &t->hour) && s.Take(':') && s.Digits(2, &t->minute) && s.Take(':') &&
         s.Digits(2, &t->second) && s.Take(' ') && s.TakeWord("GMT") && s.Done();
}

// ---------------------------------------------------------------------------------------------
// Replies

Result<ObjectSummary> ReadObjectSummary(std::string_view op, const pugi::xml_node& contents) {
  ObjectSummary object;
  for (pugi::xml_node child : contents.children()) {
    if (child.type() != pugi::node_element) continue;
    std::string_view name = LocalName(child);
    if (name == "Key") {
      object.key = Text(child);
    } else if (name == "Size") {
      CAIRN_ASSIGN_OR_RETURN(object.size,
                             ReadInt(op, child, 0, std::numeric_limits<int64_t>::max()));
    } else if (name == "ETag") {
      object.etag = ReadEtag(child);
    } else if (name == "LastModified") {
      CAIRN_ASSIGN_OR_RETURN(object.last_modified, ReadTimestamp(op, child));
    } else if (name == "StorageClass") {
      object.storage_class = Text(child);
    }
  }
  return object;
}

Result<ObjectVersion> ReadObjectVersion(std::string_view op, const pugi::xml_node& entry) {
  ObjectVersion version;
  version.is_delete_marker = LocalName(entry) == "DeleteMarker";
  for (pugi::xml_node child : entry.children()) {
    if (child.type() != pugi::node_element) continue;
    std::string_view name = LocalName(child);
    if (name == "Key") {
      version.key = Text(child);
    } else if (name == "VersionId") {
      version.version_id = Text(child);
    } else if (name == "IsLatest") {
      CAIRN_ASSIGN_OR_RETURN(version.is_latest, ReadBool(op, child));
    } else if (name == "Size") {
      CAIRN_ASSIGN_OR_RETURN(version.size,
                             ReadInt(op, child, 0, std::numeric_limits<int64_t>::max()));
    } else if (name == "ETag") {
      version.etag = ReadEtag(child);
    } else if (name == "LastModified") {
      CAIRN_ASSIGN_OR_RETURN(version.last_modified, ReadTimestamp(op, child));
    } else if (name == "StorageClass") {
      version.storage_class = Text(child);
    }
  }
  return version;
}

Result<PartSummary> ReadPartSummary(std::string_view op, const pugi::xml_node& part_node) {
  PartSummary part;
  for (pugi::xml_node child : part_node.children()) {
    if (child.type() != pugi::node_element) continue;
    std::string_view name = LocalName(child);
    if (name == "PartNumber") {
      CAIRN_ASSIGN_OR_RETURN(part.part_number, ReadInt32(op, child, 1));
    } else if (name == "ETag") {
      part.etag = ReadEtag(child);
    } else if (name == "Size") {
      CAIRN_ASSIGN_OR_RETURN(part.size, ReadInt(op, child, 0, std::numeric_limits<int64_t>::max()));
    } else if (name == "LastModified") {
      CAIRN_ASSIGN_OR_RETURN(part.last_modified, ReadTimestamp(op, child));
    }
  }
  return part;
}

Result<MultipartUploadSummary> ReadUploadSummary(std::string_view op,
                                                 const pugi::xml_node& upload_node) {
  MultipartUploadSummary upload;
  for (pugi::xml_node child : upload_node.children()) {
    if (child.type() != pugi::node_element) continue;
    std::string_view name = LocalName(child);
    if (name == "Key") {
      upload.key = Text(child);
    } else if (name == "UploadId") {
      upload.upload_id = Text(child);
    } else if (name == "Initiated") {
      CAIRN_ASSIGN_OR_RETURN(upload.initiated, ReadTimestamp(op, child));
    } else if (name == "StorageClass") {
      upload.storage_class = Text(child);
    }
  }
  return upload;
}

Result<CopyResult> ParseCopy(std::string_view op, std::string_view body) {
  pugi::xml_document doc;
  CAIRN_ASSIGN_OR_RETURN(pugi::xml_node root,
                         LoadRoot(op, body, {"CopyObjectResult", "CopyPartResult"}, &doc));
  CopyResult result;
  for (pugi::xml_node child : root.children()) {
    if (child.type() != pugi::node_element) continue;
    std::string_view name = LocalName(child);
    if (name == "ETag") {
      result.etag = ReadEtag(child);
    } else if (name == "LastModified") {
      CAIRN_ASSIGN_OR_RETURN(result.last_modified, ReadTimestamp(op, child));
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Request bodies

// Appends `text` escaped for XML element content. kInvalidArgument (without context) for text an
// XML 1.0 document cannot hold (XML 1.0 §2.2 Char).
Status AppendXmlText(std::string_view text, std::string* out) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  size_t plain_start = 0;
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = p[i];
    if (c >= 0x80) {
      size_t len = Utf8SequenceLength(p + i, text.size() - i);
      char buf[64];
      if (len == 0) {
        std::snprintf(buf, sizeof buf, "is not valid UTF-8 (byte 0x%02x at offset %zu)", c, i);
        return InvalidArgumentError(buf);
      }
      // U+FFFE and U+FFFF (EF BF BE, EF BF BF) are not XML characters.
      if (len == 3 && c == 0xef && p[i + 1] == 0xbf && p[i + 2] >= 0xbe) {
        std::snprintf(buf, sizeof buf, "contains U+%04X, which XML 1.0 cannot carry",
                      p[i + 2] == 0xbe ? 0xfffe : 0xffff);
        return InvalidArgumentError(buf);
      }
      i += len;
      continue;
    }
    std::string_view entity;
    switch (c) {
      case '&':
        entity = "&amp;";
        break;
      case '<':
        entity = "&lt;";
        break;
      case '>':  // only "]]>" needs it, but escaping every '>' is simpler and as valid
        entity = "&gt;";
        break;
      case '\r':  // a raw CR would reach the server as LF (XML 1.0 §2.11)
        entity = "&#13;";
        break;
      case '\t':
      case '\n':
        break;
      default:
        if (c < 0x20) {
          char buf[64];
          std::snprintf(buf, sizeof buf, "contains U+%04X, which XML 1.0 cannot carry", c);
          return InvalidArgumentError(buf);
        }
        break;
    }
    if (!entity.empty()) {
      out->append(text.substr(plain_start, i - plain_start));
      out->append(entity);
      plain_start = i + 1;
    }
    ++i;
  }
  out->append(text.substr(plain_start));
  return Status();
}

void AppendRootStart(std::string_view root, std::string* out) {
  *out += kXmlDeclaration;
  *out += '<';
  *out += root;
  *out += " xmlns=\"";
  *out += kS3Namespace;
  *out += "\">";
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Errors

S3Error ParseError(std::string_view body) {
  S3Error error;
  pugi::xml_document doc;
  // The result is deliberately not checked: after a parse error pugixml keeps the tree read so far,
  // and a truncated <Error> or an HTML page that is not well-formed XML still yields its fields or
  // its text.
  static_cast<void>(doc.load_buffer(body.data(), body.size(), kParseOptions, pugi::encoding_utf8));
  pugi::xml_node root = doc.document_element();
  if (LocalName(root) == "ErrorResponse") {
    ReadErrorFields(root, &error);  // the request id sits beside <Error> in this form
    root = FirstChildNamed(root, "Error");
  }
  if (LocalName(root) == "Error") ReadErrorFields(root, &error);
  if (error.code.empty()) {
    std::string text = GatherText(doc, kMaxGatheredTextBytes);
    error.body_excerpt =
        OneLine(text.empty() ? body.substr(0, kMaxGatheredTextBytes) : std::string_view(text),
                kMaxExcerptBytes);
  }
  return error;
}

Status S3ErrorToStatus(int http_status, const S3Error& error, std::string_view context) {
  std::string message(context);
  auto add = [&message](std::string_view part) {
    if (!message.empty()) message += ": ";
    message += part;
  };
  if (!error.code.empty()) {
    add(OneLine(error.code, kMaxCodeBytes));
  } else {
    add(Concat({"HTTP ", std::to_string(http_status)}));
  }
  if (!error.message.empty()) {
    add(OneLine(error.message, kMaxMessageBytes));
  } else if (!error.body_excerpt.empty()) {
    add(error.body_excerpt);
  }
  if (!error.endpoint.empty()) {
    message += Concat({" (endpoint ", OneLine(error.endpoint, kMaxCodeBytes * 4), ")"});
  }
  ErrorDetail detail;
  detail.http_status = http_status;
  detail.service_code = error.code;
  detail.request_id = error.request_id;
  return Status(CodeFor(http_status, error.code), message, std::move(detail));
}

// ---------------------------------------------------------------------------------------------
// Replies

Result<int64_t> ParseS3Timestamp(std::string_view text) {
  CivilTime t;
  if (!ScanIso8601(text, &t)) {
    t = CivilTime();
    if (!ScanRfc1123(text, &t)) {
      return InvalidArgumentError(Concat({QuoteForMessage(text), " is not an S3 timestamp"}));
    }
  }
  // Second 60 is a leap second; it counts as the first second of the next minute.
  if (t.year < 1 || t.month < 1 || t.month > 12 || t.day < 1 ||
      t.day > DaysInMonth(t.year, t.month) || t.hour > 23 || t.minute > 59 || t.second > 60) {
    return InvalidArgumentError(Concat({QuoteForMessage(text), " is not a valid date and time"}));
  }
  return DaysFromCivil(t.year, t.month, t.day) * 86400 + t.hour * 3600 + t.minute * 60 + t.second -
         t.offset_seconds;
}

Result<ListObjectsV2Page> ParseListObjectsV2(std::string_view body) {
  constexpr std::string_view kOp = "ListObjectsV2";
  pugi::xml_document doc;
  CAIRN_ASSIGN_OR_RETURN(pugi::xml_node root, LoadRoot(kOp, body, {"ListBucketResult"}, &doc));
  ListObjectsV2Page page;
  for (pugi::xml_node child : root.children()) {
    if (child.type() != pugi::node_element) continue;
    std::string_view name = LocalName(child);
    if (name == "Contents") {
      CAIRN_ASSIGN_OR_RETURN(ObjectSummary object, ReadObjectSummary(kOp, child));
      page.contents.push_back(std::move(object));
    } else if (name == "CommonPrefixes") {
      page.common_prefixes.push_back(Text(FirstChildNamed(child, "Prefix")));
    } else if (name == "Name") {
      page.bucket = Text(child);
    } else if (name == "Prefix") {
      page.prefix = Text(child);
    } else if (name == "Delimiter") {
      page.delimiter = Text(child);
    } else if (name == "StartAfter") {
      page.start_after = Text(child);
    } else if (name == "ContinuationToken") {
      page.continuation_token = Text(child);
    } else if (name == "NextContinuationToken") {
      page.next_continuation_token = Text(child);
    } else if (name == "EncodingType") {
      page.encoding_type = Text(child);
    } else if (name == "KeyCount") {
      CAIRN_ASSIGN_OR_RETURN(page.key_count,
                             ReadInt(kOp, child, 0, std::numeric_limits<int64_t>::max()));
    } else if (name == "IsTruncated") {
      CAIRN_ASSIGN_OR_RETURN(page.is_truncated, ReadBool(kOp, child));
    }
  }
  // EncodingType may come after the entries, so decoding waits until everything is read.
  if (IsUrlEncoding(page.encoding_type)) {
    CAIRN_RETURN_IF_ERROR(UrlDecodeAll(kOp, {&page.prefix, &page.delimiter, &page.start_after},
                                       &page.common_prefixes));
    for (ObjectSummary& object : page.contents) {
      CAIRN_RETURN_IF_ERROR(UrlDecodeInPlace(kOp, &object.key));
    }
  }
  if (page.is_truncated && page.next_continuation_token.empty()) {
    return TruncatedWithoutMarker(kOp, "NextContinuationToken");
  }
  return page;
}

Result<ListObjectVersionsPage> ParseListObjectVersions(std::string_view body) {
  constexpr std::string_view kOp = "ListObjectVersions";
  pugi::xml_document doc;
  CAIRN_ASSIGN_OR_RETURN(pugi::xml_node root, LoadRoot(kOp, body, {"ListVersionsResult"}, &doc));
  ListObjectVersionsPage page;
  for (pugi::xml_node child : root.children()) {
    if (child.type() != pugi::node_element) continue;
    std::string_view name = LocalName(child);
    if (name == "Version" || name == "DeleteMarker") {
      CAIRN_ASSIGN_OR_RETURN(ObjectVersion version, ReadObjectVersion(kOp, child));
      page.versions.push_back(std::move(version));
    } else if (name == "CommonPrefixes") {
      page.common_prefixes.push_back(Text(FirstChildNamed(child, "Prefix")));
    } else if (name == "Name") {
      page.bucket = Text(child);
    } else if (name == "Prefix") {
      page.prefix = Text(child);
    } else if (name == "Delimiter") {
      page.delimiter = Text(child);
    } else if (name == "KeyMarker") {
      page.key_marker = Text(child);
    } else if (name == "VersionIdMarker") {
      page.version_id_marker = Text(child);
    } else if (name == "NextKeyMarker") {
      page.next_key_marker = Text(child);
    } else if (name == "NextVersionIdMarker") {
      page.next_version_id_marker = Text(child);
    } else if (name == "EncodingType") {
      page.encoding_type = Text(child);
    } else if (name == "IsTruncated") {
      CAIRN_ASSIGN_OR_RETURN(page.is_truncated, ReadBool(kOp, child));
    }
  }
  if (IsUrlEncoding(page.encoding_type)) {
    CAIRN_RETURN_IF_ERROR(
        UrlDecodeAll(kOp, {&page.prefix, &page.delimiter, &page.key_marker, &page.next_key_marker},
                     &page.common_prefixes));
    for (ObjectVersion& version : page.versions) {
      CAIRN_RETURN_IF_ERROR(UrlDecodeInPlace(kOp, &version.key));
    }
  }
  if (page.is_truncated && page.next_key_marker.empty()) {
    return TruncatedWithoutMarker(kOp, "NextKeyMarker");
  }
  return page;
}

Result<InitiateMultipartUploadResult> ParseInitiateMultipartUpload(std::string_view body) {
  constexpr std::string_view kOp = "CreateMultipartUpload";
  pugi::xml_document doc;
  CAIRN_ASSIGN_OR_RETURN(pugi::xml_node root,
                         LoadRoot(kOp, body, {"InitiateMultipartUploadResult"}, &doc));
  InitiateMultipartUploadResult result;
  result.bucket = Text(FirstChildNamed(root, "Bucket"));
  result.key = Text(FirstChildNamed(root, "Key"));
  result.upload_id = Text(FirstChildNamed(root, "UploadId"));
  if (result.upload_id.empty()) {
    return InvalidArgumentError(Concat({kOp, ": the reply has no <UploadId>"}));
  }
  return result;
}

Result<CompleteMultipartUploadResult> ParseCompleteMultipartUpload(std::string_view body) {
  constexpr std::string_view kOp = "CompleteMultipartUpload";
  pugi::xml_document doc;
  CAIRN_ASSIGN_OR_RETURN(pugi::xml_node root,
                         LoadRoot(kOp, body, {"CompleteMultipartUploadResult"}, &doc));
  CompleteMultipartUploadResult result;
  result.location = Text(FirstChildNamed(root, "Location"));
  result.bucket = Text(FirstChildNamed(root, "Bucket"));
  result.key = Text(FirstChildNamed(root, "Key"));
  result.etag = ReadEtag(FirstChildNamed(root, "ETag"));
  return result;
}

Result<CopyResult> ParseCopyObjectResult(std::string_view body) {
  return ParseCopy("CopyObject", body);
}

Result<CopyResult> ParseCopyPartResult(std::string_view body) {
  return ParseCopy("UploadPartCopy", body);
}

Result<ListPartsPage> ParseListParts(std::string_view body) {
  constexpr std::string_view kOp = "ListParts";
  pugi::xml_document doc;
  CAIRN_ASSIGN_OR_RETURN(pugi::xml_node root, LoadRoot(kOp, body, {"ListPartsResult"}, &doc));
  ListPartsPage page;
  for (pugi::xml_node child : root.children()) {
    if (child.type() != pugi::node_element) continue;
    std::string_view name = LocalName(child);
    if (name == "Part") {
      CAIRN_ASSIGN_OR_RETURN(PartSummary part, ReadPartSummary(kOp, child));
      page.parts.push_back(std::move(part));
    } else if (name == "Bucket") {
      page.bucket = Text(child);
    } else if (name == "Key") {
      page.key = Text(child);
    } else if (name == "UploadId") {
      page.upload_id = Text(child);
    } else if (name == "PartNumberMarker") {
      CAIRN_ASSIGN_OR_RETURN(page.part_number_marker, ReadInt32(kOp, child, 0));
    } else if (name == "NextPartNumberMarker") {
      CAIRN_ASSIGN_OR_RETURN(page.next_part_number_marker, ReadInt32(kOp, child, 0));
    } else if (name == "MaxParts") {
      CAIRN_ASSIGN_OR_RETURN(page.max_parts, ReadInt32(kOp, child, 0));
    } else if (name == "IsTruncated") {
      CAIRN_ASSIGN_OR_RETURN(page.is_truncated, ReadBool(kOp, child));
    }
  }
  if (page.is_truncated && page.next_part_number_marker == 0) {
    return TruncatedWithoutMarker(kOp, "NextPartNumberMarker");
  }
  return page;
}

Result<ListMultipartUploadsPage> ParseListMultipartUploads(std::string_view body) {
  constexpr std::string_view kOp = "ListMultipartUploads";
  pugi::xml_document doc;
  CAIRN_ASSIGN_OR_RETURN(pugi::xml_node root,
                         LoadRoot(kOp, body, {"ListMultipartUploadsResult"}, &doc));
  ListMultipartUploadsPage page;
  for (pugi::xml_node child : root.children()) {
    if (child.type() != pugi::node_element) continue;
    std::string_view name = LocalName(child);
    if (name == "Upload") {
      CAIRN_ASSIGN_OR_RETURN(MultipartUploadSummary upload, ReadUploadSummary(kOp, child));
      page.uploads.push_back(std::move(upload));
    } else if (name == "CommonPrefixes") {
      page.common_prefixes.push_back(Text(FirstChildNamed(child, "Prefix")));
    } else if (name == "Bucket") {
      page.bucket = Text(child);
    } else if (name == "Prefix") {
      page.prefix = Text(child);
    } else if (name == "Delimiter") {
      page.delimiter = Text(child);
    } else if (name == "KeyMarker") {
      page.key_marker = Text(child);
    } else if (name == "UploadIdMarker") {
      page.upload_id_marker = Text(child);
    } else if (name == "NextKeyMarker") {
      page.next_key_marker = Text(child);
    } else if (name == "NextUploadIdMarker") {
      page.next_upload_id_marker = Text(child);
    } else if (name == "EncodingType") {
      page.encoding_type = Text(child);
    } else if (name == "IsTruncated") {
      CAIRN_ASSIGN_OR_RETURN(page.is_truncated, ReadBool(kOp, child));
    }
  }
  if (IsUrlEncoding(page.encoding_type)) {
    CAIRN_RETURN_IF_ERROR(
        UrlDecodeAll(kOp, {&page.prefix, &page.delimiter, &page.key_marker, &page.next_key_marker},
                     &page.common_prefixes));
    for (MultipartUploadSummary& upload : page.uploads) {
      CAIRN_RETURN_IF_ERROR(UrlDecodeInPlace(kOp, &upload.key));
    }
  }
  if (page.is_truncated && page.next_key_marker.empty()) {
    return TruncatedWithoutMarker(kOp, "NextKeyMarker");
  }
  return page;
}

Result<DeleteObjectsResult> ParseDeleteObjectsResult(std::string_view body) {
  constexpr std::string_view kOp = "DeleteObjects";
  pugi::xml_document doc;
  CAIRN_ASSIGN_OR_RETURN(pugi::xml_node root, LoadRoot(kOp, body, {"DeleteResult"}, &doc));
  DeleteObjectsResult result;
  for (pugi::xml_node entry : root.children()) {
    if (entry.type() != pugi::node_element) continue;
    std::string_view entry_name = LocalName(entry);
    if (entry_name == "Deleted") {
      DeletedObject& deleted = result.deleted.emplace_back();
      for (pugi::xml_node child : entry.children()) {
        std::string_view name = LocalName(child);
        if (name == "Key") {
          deleted.key = Text(child);
        } else if (name == "VersionId") {
          deleted.version_id = Text(child);
        } else if (name == "DeleteMarker") {
          CAIRN_ASSIGN_OR_RETURN(deleted.delete_marker, ReadBool(kOp, child));
        } else if (name == "DeleteMarkerVersionId") {
          deleted.delete_marker_version_id = Text(child);
        }
      }
    } else if (entry_name == "Error") {
      DeleteObjectError& error = result.errors.emplace_back();
      for (pugi::xml_node child : entry.children()) {
        std::string_view name = LocalName(child);
        if (name == "Key") {
          error.key = Text(child);
        } else if (name == "VersionId") {
          error.version_id = Text(child);
        } else if (name == "Code") {
          error.code = Text(child);
        } else if (name == "Message") {
          error.message = Text(child);
        }
      }
    }
  }
  return result;
}

Result<ListBucketsResult> ParseListBuckets(std::string_view body) {
  constexpr std::string_view kOp = "ListBuckets";
  pugi::xml_document doc;
  CAIRN_ASSIGN_OR_RETURN(pugi::xml_node root,
                         LoadRoot(kOp, body, {"ListAllMyBucketsResult"}, &doc));
  ListBucketsResult result;
  result.continuation_token = Text(FirstChildNamed(root, "ContinuationToken"));
  for (pugi::xml_node bucket_node : FirstChildNamed(root, "Buckets").children()) {
    if (bucket_node.type() != pugi::node_element || LocalName(bucket_node) != "Bucket") continue;
    BucketSummary& bucket = result.buckets.emplace_back();
    for (pugi::xml_node child : bucket_node.children()) {
      std::string_view name = LocalName(child);
      if (name == "Name") {
        bucket.name = Text(child);
      } else if (name == "CreationDate") {
        CAIRN_ASSIGN_OR_RETURN(bucket.creation_date, ReadTimestamp(kOp, child));
      }
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Request bodies

Result<std::string> BuildCompleteMultipartUpload(std::span<const CompletedPart> parts) {
  constexpr std::string_view kOp = "CompleteMultipartUpload";
  if (parts.empty()) return InvalidArgumentError(Concat({kOp, ": no parts (S3 needs one)"}));
  std::string out;
  // ~80 bytes of markup and a 34-byte quoted ETag per part.
  out.reserve(128 + parts.size() * 128);
  AppendRootStart("CompleteMultipartUpload", &out);
  int32_t previous = 0;
  for (const CompletedPart& part : parts) {
    std::string number = std::to_string(part.part_number);
    if (part.part_number < 1 || part.part_number > kMaxPartNumber) {
      return InvalidArgumentError(Concat(
          {kOp, ": part number ", number, " is outside 1..", std::to_string(kMaxPartNumber)}));
    }
    if (part.part_number <= previous) {
      return InvalidArgumentError(Concat({kOp, ": part numbers must be strictly ascending, got ",
                                          number, " after ", std::to_string(previous)}));
    }
    previous = part.part_number;
    if (part.etag.empty()) {
      return InvalidArgumentError(Concat({kOp, ": part ", number, " has no ETag"}));
    }
    out += "<Part><PartNumber>";
    out += number;
    out += "</PartNumber><ETag>";
    // S3 compares the quoted form UploadPart returned; accept the ETag with or without quotes.
    bool quoted = part.etag.size() >= 2 && part.etag.front() == '"' && part.etag.back() == '"';
    if (!quoted) out += '"';
    Status escaped = AppendXmlText(part.etag, &out);
    if (!escaped.ok()) {
      return std::move(escaped).WithContext(
          Concat({kOp, ": ETag ", QuoteForMessage(part.etag), " of part ", number}));
    }
    if (!quoted) out += '"';
    out += "</ETag></Part>";
  }
  out += "</CompleteMultipartUpload>";
  return out;
}

Result<std::string> BuildDeleteObjects(std::span<const ObjectIdentifier> objects,
                                       DeleteReport report) {
  constexpr std::string_view kOp = "DeleteObjects";
  if (objects.empty() || objects.size() > kMaxDeleteObjectsKeys) {
    return InvalidArgumentError(
        Concat({kOp, ": ", std::to_string(objects.size()), " keys; S3 takes 1..",
                std::to_string(kMaxDeleteObjectsKeys), " per request"}));
  }
  size_t text_bytes = 0;
  for (const ObjectIdentifier& object : objects) {
    text_bytes += object.key.size() + object.version_id.size();
  }
  std::string out;
  out.reserve(160 + objects.size() * 64 + text_bytes + text_bytes / 8);
  AppendRootStart("Delete", &out);
  for (size_t i = 0; i < objects.size(); ++i) {
    const ObjectIdentifier& object = objects[i];
    auto where = [&] {
      return Concat({kOp, ": key ", std::to_string(i + 1), " of ", std::to_string(objects.size()),
                     " ", QuoteForMessage(object.key)});
    };
    if (object.key.empty()) {
      return InvalidArgumentError(Concat({where(), ": empty (S3 keys have 1..1024 bytes)"}));
    }
    out += "<Object><Key>";
    Status escaped = AppendXmlText(object.key, &out);
    if (!escaped.ok()) {
      return InvalidArgumentError(
          Concat({where(), ": ", escaped.message(),
                  "; delete such a key with DeleteObject, which carries it in the URL instead"}));
    }
    out += "</Key>";
    if (!object.version_id.empty()) {
      out += "<VersionId>";
      escaped = AppendXmlText(object.version_id, &out);
      if (!escaped.ok()) {
        return std::move(escaped).WithContext(
            Concat({where(), ": version id ", QuoteForMessage(object.version_id)}));
      }
      out += "</VersionId>";
    }
    out += "</Object>";
  }
  if (report == DeleteReport::kErrorsOnly) out += "<Quiet>true</Quiet>";
  out += "</Delete>";
  return out;
}

}  // namespace cairn::objstore::s3
