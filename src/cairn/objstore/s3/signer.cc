#include "cairn/objstore/s3/signer.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "cairn/common/text.h"

namespace cairn::objstore::s3 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view kScopeTerminator = "aws4_request";
constexpr char kUpperHex[] = "0123456789ABCDEF";

// 9999-12-31T23:59:59Z: the last second with a four-digit year.
constexpr int64_t kMaxUnixSeconds = 253402300799;

// Character classes as lookup tables: signing is mostly byte scanning, and a table lookup per
// byte beats a chain of comparisons (or a memchr per byte).
enum CharClass : uint8_t {
  kUnreserved = 1,  // RFC 3986 §2.3: A-Z a-z 0-9 - . _ ~
  kToken = 2,       // RFC 9110 §5.6.2 tchar: methods and header names
};

constexpr std::array<uint8_t, 256> MakeCharClasses() {
  std::array<uint8_t, 256> table{};
  for (int c = 0; c < 256; ++c) {
    bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (alnum || c == '-' || c == '.' || c == '_' || c == '~') table[c] |= kUnreserved;
    if (alnum ||
        std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos) {
      table[c] |= kToken;
    }
  }
  return table;
}
constexpr std::array<uint8_t, 256> kCharClasses = MakeCharClasses();

bool IsUnreserved(unsigned char c) { return kCharClasses[c] & kUnreserved; }

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

char ToUpperAscii(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }
char ToLowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

// Orders header names as their lowercase forms compare bytewise (the canonical order), without
// building the lowercase strings.
bool LessIgnoreCase(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = static_cast<unsigned char>(ToLowerAscii(a[i]));
    unsigned char y = static_cast<unsigned char>(ToLowerAscii(b[i]));
    if (x != y) return x < y;
  }
  return a.size() < b.size();
}

// RFC 9110 §5.6.2 token: what a method or a header name may be made of.
bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return kCharClasses[static_cast<unsigned char>(c)] & kToken;
  });
}

bool HasControlOrSpace(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char ch) {
    unsigned char c = static_cast<unsigned char>(ch);
    return c <= 0x20 || c == 0x7f;
  });
}

// CR, LF and NUL would let a value end the header line early (header injection) or be cut.
bool HasLineBreakOrNul(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

bool IsValidPayloadHash(std::string_view s) {
  if (s.size() == 64) {
    return std::all_of(s.begin(), s.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
  }
  if (s == kUnsignedPayload) return true;
  // S3 chunked uploads: STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, ...
  constexpr std::string_view kStreaming = "STREAMING-";
  return s.size() > kStreaming.size() && s.substr(0, kStreaming.size()) == kStreaming &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
         });
}

bool IsHeaderSpace(char c) { return c == ' ' || c == '\t'; }

// The specification's Trimall: leading and trailing blanks removed, inner runs of blanks collapsed
// to one space. Quoted strings get no special treatment (get-header-value-trim: "a   b   c" is
// signed as "a b c").
void AppendTrimmedValue(std::string_view value, std::string* out) {
  size_t begin = 0;
  size_t end = value.size();
  while (begin < end && IsHeaderSpace(value[begin])) ++begin;
  while (end > begin && IsHeaderSpace(value[end - 1])) --end;
  value = value.substr(begin, end - begin);
  // The common case, single spaces only, in one copy.
  if (value.find('\t') == std::string_view::npos && value.find("  ") == std::string_view::npos) {
    out->append(value);
    return;
  }
  bool in_blank = false;
  for (size_t i = 0; i < value.size(); ++i) {
    if (IsHeaderSpace(value[i])) {
      if (!in_blank) out->push_back(' ');
      in_blank = true;
    } else {
      out->push_back(value[i]);
      in_blank = false;
    }
  }
}

void AppendLowercase(std::string_view s, std::string* out) {
  size_t at = out->size();
  out->resize(at + s.size());
  std::transform(s.begin(), s.end(), out->begin() + static_cast<std::ptrdiff_t>(at), ToLowerAscii);
}

Status RequestError(const SignableRequest& request, std::string_view detail) {
  std::string message = "SigV4: cannot sign ";
  message += QuoteForMessage(request.method, 16);
  message += ' ';
  message += QuoteForMessage(request.path);
  message += ": ";
  message += detail;
  return InvalidArgumentError(message);
}

Status ValidateRequest(const SignableRequest& request) {
  if (!IsToken(request.method)) return RequestError(request, "the method is not an HTTP token");
  const std::string& path = request.path;
  if (path.empty() || path[0] != '/') return RequestError(request, "the path must start with '/'");
  for (char ch : path) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return RequestError(request, "the path has a control character");
    if (c == '?' || c == '#') {
      return RequestError(request, "the path has a raw '?' or '#' (query parameters go in query)");
    }
  }
  bool has_host = false;
  for (const auto& [name, value] : request.headers) {
    if (!IsToken(name)) {
      return RequestError(request, "header name " + QuoteForMessage(name) + " is not a token");
    }
    if (HasLineBreakOrNul(value)) {
      return RequestError(
          request, "the value of header " + QuoteForMessage(name) + " has a line break or NUL");
    }
    if (EqualsIgnoreCase(name, "host")) has_host = true;
  }
  if (!has_host) return RequestError(request, "no Host header (SigV4 always signs it)");
  if (!IsValidPayloadHash(request.payload_sha256_hex)) {
    return RequestError(request, "payload hash " + QuoteForMessage(request.payload_sha256_hex) +
                                     " is neither 64 lowercase hex digits nor UNSIGNED-PAYLOAD"
                                     " nor STREAMING-...");
  }
  return Status::OK();
}

Status ValidateSigner(const SignableRequest& request, const Credentials& credentials,
                      const SigningScope& scope) {
  // The access key id and the scope are written between '/' in the Credential field.
  if (credentials.access_key_id.empty() || HasControlOrSpace(credentials.access_key_id) ||
      credentials.access_key_id.find_first_of("/,") != std::string::npos) {
    return RequestError(request, "the access key id is empty or has '/', ',' or blanks");
  }
  if (credentials.secret_access_key.empty()) {
    return RequestError(request, "the secret access key is empty");
  }
  if (HasLineBreakOrNul(credentials.session_token)) {
    return RequestError(request, "the session token has a line break or NUL");
  }
  for (std::string_view part : {std::string_view(scope.region), std::string_view(scope.service)}) {
    if (part.empty() || HasControlOrSpace(part) || part.find('/') != std::string_view::npos) {
      return RequestError(request, "region " + QuoteForMessage(scope.region) + " or service " +
                                       QuoteForMessage(scope.service) +
                                       " is empty or has '/' or blanks");
    }
  }
  return Status::OK();
}

struct HeaderRef {
  std::string_view name;
  std::string_view value;
};

// The canonical headers block ("name:value\n" per distinct name, sorted) and the signed headers
// list ("host;x-amz-date").
struct CanonicalHeaders {
  std::string lines;
  std::string signed_names;
};

CanonicalHeaders CanonicalizeHeaders(const HeaderList& given, std::span<const HeaderRef> added) {
  std::vector<HeaderRef> all;
  all.reserve(given.size() + added.size());
  size_t bytes = 0;
  for (const auto& [name, value] : given) {
    all.push_back({name, value});
    bytes += name.size() + value.size() + 3;
  }
  for (const HeaderRef& h : added) {
    all.push_back(h);
    bytes += h.name.size() + h.value.size() + 3;
  }
  // Stable: the values of a repeated header are joined in the order they were given
  // (get-header-value-order).
  std::stable_sort(all.begin(), all.end(), [](const HeaderRef& a, const HeaderRef& b) {
    return LessIgnoreCase(a.name, b.name);
  });
  CanonicalHeaders out;
  out.lines.reserve(bytes);
  out.signed_names.reserve(bytes / 2);
  for (size_t i = 0; i < all.size(); ++i) {
    bool repeat = i > 0 && EqualsIgnoreCase(all[i - 1].name, all[i].name);
    if (repeat) {
      out.lines.back() = ',';  // replaces the previous value's '\n'
    } else {
      if (!out.signed_names.empty()) out.signed_names.push_back(';');
      AppendLowercase(all[i].name, &out.signed_names);
      AppendLowercase(all[i].name, &out.lines);
      out.lines.push_back(':');
    }
    AppendTrimmedValue(all[i].value, &out.lines);
    out.lines.push_back('\n');
  }
  return out;
}

// RFC 3986 §5.2.4-like dot-segment removal as the AWS SDKs do it (aws-c-auth
// s_append_normalized_path): empty and "." segments vanish, ".." drops the previous one, a
// trailing '/' survives only after a segment.
std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view segment = path.substr(pos, slash - pos);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    pos = slash + 1;
  }
  std::string out = "/";
  for (size_t i = 0; i < segments.size(); ++i) {
    out.append(segments[i]);
    if (i + 1 < segments.size() || path.ends_with('/')) out.push_back('/');
  }
  return out;
}

void AppendCanonicalUri(std::string_view path, UriEncoding encoding, std::string* out) {
  if (encoding == UriEncoding::kNormalizeAndDoubleEncode) {
    AppendUriEncoded(NormalizePath(path), Slash::kKeep, out);
    return;
  }
  for (size_t i = 0; i < path.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(path[i]);
    if (c == '/' || IsUnreserved(c)) {
      size_t run = i + 1;
      while (run < path.size() &&
             (path[run] == '/' || IsUnreserved(static_cast<unsigned char>(path[run])))) {
        ++run;
      }
      out->append(path.substr(i, run - i));
      i = run - 1;
    } else if (c == '%' && i + 2 < path.size() && IsHexDigit(path[i + 1]) &&
               IsHexDigit(path[i + 2])) {
      // Already an escape: the path is sent encoded, and S3 signs it as sent.
      out->push_back('%');
      out->push_back(ToUpperAscii(path[i + 1]));
      out->push_back(ToUpperAscii(path[i + 2]));
      i += 2;
    } else {
      out->push_back('%');
      out->push_back(kUpperHex[c >> 4]);
      out->push_back(kUpperHex[c & 0xf]);
    }
  }
}

using EncodedQuery = std::vector<std::pair<std::string, std::string>>;

EncodedQuery EncodeQuery(const QueryList& query, size_t extra) {
  EncodedQuery encoded;
  encoded.reserve(query.size() + extra);
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, Slash::kEncode), UriEncode(value, Slash::kEncode));
  }
  return encoded;
}

std::string JoinSortedQuery(EncodedQuery* encoded) {
  std::sort(encoded->begin(), encoded->end());
  std::string out;
  for (const auto& [name, value] : *encoded) {
    if (!out.empty()) out.push_back('&');
    out.append(name);
    out.push_back('=');
    out.append(value);
  }
  return out;
}

std::string BuildCanonicalRequest(const SignableRequest& request, UriEncoding encoding,
                                  std::string_view canonical_query,
                                  const CanonicalHeaders& headers) {
  std::string out;
  out.reserve(request.method.size() + request.path.size() * 3 + canonical_query.size() +
              headers.lines.size() + headers.signed_names.size() +
              request.payload_sha256_hex.size() + 8);
  out.append(request.method);
  out.push_back('\n');
  AppendCanonicalUri(request.path, encoding, &out);
  out.push_back('\n');
  out.append(canonical_query);
  out.push_back('\n');
  out.append(headers.lines);
  out.push_back('\n');
  out.append(headers.signed_names);
  out.push_back('\n');
  out.append(request.payload_sha256_hex);
  return out;
}

std::string BuildStringToSign(Sha256* sha, const SigningTime& time,
                              std::string_view credential_scope,
                              std::string_view canonical_request) {
  std::string out;
  out.reserve(kAlgorithm.size() + 16 + credential_scope.size() + 64 + 3);
  out.append(kAlgorithm);
  out.push_back('\n');
  out.append(time.amz_date());
  out.push_back('\n');
  out.append(credential_scope);
  out.push_back('\n');
  sha->Update(canonical_request);
  AppendHex(sha->Finish(), &out);
  return out;
}

std::string_view KeyBytes(const SigningKey& key) {
  return std::string_view(reinterpret_cast<const char*>(key.data()), key.size());
}

// Header names and query parameters that only the signer may set.
constexpr std::array<std::string_view, 4> kSignerHeaders = {
    "authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256"};
constexpr std::array<std::string_view, 7> kSignerQueryParameters = {
    "X-Amz-Algorithm",     "X-Amz-Credential", "X-Amz-Date",          "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Signature",  "X-Amz-Security-Token"};

Status CheckNoSignerHeaders(const SignableRequest& request, bool content_sha256_is_ours) {
  for (const auto& header : request.headers) {
    for (std::string_view reserved : kSignerHeaders) {
      if (reserved == "x-amz-content-sha256" && !content_sha256_is_ours) continue;
      if (EqualsIgnoreCase(header.first, reserved)) {
        return RequestError(request,
                            "header " + QuoteForMessage(header.first) + " is set by the signer");
      }
    }
  }
  return Status::OK();
}

}  // namespace

Result<SigningTime> SigningTime::FromUnixSeconds(int64_t unix_seconds) {
  if (unix_seconds < 0 || unix_seconds > kMaxUnixSeconds) {
    return InvalidArgumentError("SigV4: time " + std::to_string(unix_seconds) +
                                " is outside 1970..9999 (four-digit years)");
  }
  // civil_from_days (H. Hinnant): the calendar by hand, so the result does not depend on the C
  // library or the time zone. Days are non-negative here, so plain division is floor division.
  int64_t days = unix_seconds / 86400;
  int64_t secs = unix_seconds % 86400;
  int64_t z = days + 719468;
  int64_t era = z / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int64_t day = doy - (153 * mp + 2) / 5 + 1;
  int64_t month = mp < 10 ? mp + 3 : mp - 9;
  int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);

  SigningTime time;
  time.unix_seconds_ = unix_seconds;
  auto put = [&time](size_t at, int64_t value, size_t digits) {
    for (size_t i = digits; i-- > 0;) {
      time.text_[at + i] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
  };
  put(0, year, 4);
  put(4, month, 2);
  put(6, day, 2);
  time.text_[8] = 'T';
  put(9, secs / 3600, 2);
  put(11, secs / 60 % 60, 2);
  put(13, secs % 60, 2);
  time.text_[15] = 'Z';
  return time;
}

void AppendUriEncoded(std::string_view text, Slash slash, std::string* out) {
  size_t i = 0;
  while (i < text.size()) {
    // Copy the run of bytes that stay as they are in one go (most of a key), then escape one.
    size_t run = i;
    while (run < text.size() && (IsUnreserved(static_cast<unsigned char>(text[run])) ||
                                 (text[run] == '/' && slash == Slash::kKeep))) {
      ++run;
    }
    out->append(text.substr(i, run - i));
    if (run == text.size()) break;
    unsigned char c = static_cast<unsigned char>(text[run]);
    char escape[3] = {'%', kUpperHex[c >> 4], kUpperHex[c & 0xf]};
    out->append(escape, 3);
    i = run + 1;
  }
}

std::string UriEncode(std::string_view text, Slash slash) {
  std::string out;
  out.reserve(text.size());
  AppendUriEncoded(text, slash, &out);
  return out;
}

std::string CanonicalUri(std::string_view path, UriEncoding encoding) {
  std::string out;
  out.reserve(path.size());
  AppendCanonicalUri(path, encoding, &out);
  return out;
}

std::string CanonicalQueryString(const QueryList& query) {
  EncodedQuery encoded = EncodeQuery(query, 0);
  return JoinSortedQuery(&encoded);
}

Result<std::string> CanonicalRequest(const SignableRequest& request, UriEncoding encoding) {
  CAIRN_RETURN_IF_ERROR(ValidateRequest(request));
  return BuildCanonicalRequest(request, encoding, CanonicalQueryString(request.query),
                               CanonicalizeHeaders(request.headers, {}));
}

std::string CredentialScope(std::string_view date, const SigningScope& scope) {
  std::string out;
  out.reserve(date.size() + scope.region.size() + scope.service.size() + kScopeTerminator.size() +
              3);
  out.append(date);
  out.push_back('/');
  out.append(scope.region);
  out.push_back('/');
  out.append(scope.service);
  out.push_back('/');
  out.append(kScopeTerminator);
  return out;
}

std::string StringToSign(const SigningTime& time, const SigningScope& scope,
                         std::string_view canonical_request) {
  Sha256 sha;
  return BuildStringToSign(&sha, time, CredentialScope(time.date(), scope), canonical_request);
}

SigningKey DeriveSigningKey(std::string_view secret_access_key, std::string_view date,
                            std::string_view region, std::string_view service) {
  std::string secret = "AWS4";
  secret.append(secret_access_key);
  SigningKey key = HmacSha256(secret, date);
  key = HmacSha256(KeyBytes(key), region);
  key = HmacSha256(KeyBytes(key), service);
  return HmacSha256(KeyBytes(key), kScopeTerminator);
}

std::string SignatureHex(const SigningKey& key, std::string_view string_to_sign) {
  return HexEncode(HmacSha256(KeyBytes(key), string_to_sign));
}

Result<HeaderSignature> SignHeaders(const SignableRequest& request, const Credentials& credentials,
                                    const SigningScope& scope, const SigningTime& time,
                                    const SigningOptions& options) {
  return SignHeaders(
      request, credentials, scope, time,
      DeriveSigningKey(credentials.secret_access_key, time.date(), scope.region, scope.service),
      options);
}

Result<HeaderSignature> SignHeaders(const SignableRequest& request, const Credentials& credentials,
                                    const SigningScope& scope, const SigningTime& time,
                                    const SigningKey& key, const SigningOptions& options) {
  CAIRN_RETURN_IF_ERROR(ValidateRequest(request));
  CAIRN_RETURN_IF_ERROR(ValidateSigner(request, credentials, scope));
  bool add_payload_hash = options.payload_hash_header == PayloadHashHeader::kAdd;
  CAIRN_RETURN_IF_ERROR(CheckNoSignerHeaders(request, add_payload_hash));
  bool has_token = !credentials.session_token.empty();
  bool sign_token = has_token && options.session_token == SessionTokenSigning::kSigned;

  std::array<HeaderRef, 3> added;
  size_t added_count = 0;
  added[added_count++] = {"x-amz-date", time.amz_date()};
  if (add_payload_hash) added[added_count++] = {"x-amz-content-sha256", request.payload_sha256_hex};
  if (sign_token) added[added_count++] = {"x-amz-security-token", credentials.session_token};
  CanonicalHeaders headers =
      CanonicalizeHeaders(request.headers, std::span(added.data(), added_count));

  HeaderSignature result;
  Sha256 sha;  // for the canonical request hash
  std::string credential_scope = CredentialScope(time.date(), scope);
  result.canonical_request = BuildCanonicalRequest(request, options.uri_encoding,
                                                   CanonicalQueryString(request.query), headers);
  result.string_to_sign = BuildStringToSign(&sha, time, credential_scope, result.canonical_request);
  result.signature = HexEncode(HmacSha256(KeyBytes(key), result.string_to_sign));

  std::string authorization;
  authorization.reserve(kAlgorithm.size() + credentials.access_key_id.size() +
                        credential_scope.size() + headers.signed_names.size() + 64 + 40);
  authorization.append(kAlgorithm);
  authorization.append(" Credential=");
  authorization.append(credentials.access_key_id);
  authorization.push_back('/');
  authorization.append(credential_scope);
  authorization.append(", SignedHeaders=");
  authorization.append(headers.signed_names);
  authorization.append(", Signature=");
  authorization.append(result.signature);

  result.headers.reserve(4);
  result.headers.emplace_back("X-Amz-Date", std::string(time.amz_date()));
  if (add_payload_hash) {
    result.headers.emplace_back("X-Amz-Content-Sha256", request.payload_sha256_hex);
  }
  if (has_token) result.headers.emplace_back("X-Amz-Security-Token", credentials.session_token);
  result.headers.emplace_back("Authorization", std::move(authorization));
  return result;
}

Result<PresignedUrl> PresignUrl(const SignableRequest& request, const Credentials& credentials,
                                const SigningScope& scope, const SigningTime& time,
                                std::chrono::seconds expires, const SigningOptions& options) {
  return PresignUrl(
      request, credentials, scope, time, expires,
      DeriveSigningKey(credentials.secret_access_key, time.date(), scope.region, scope.service),
      options);
}

Result<PresignedUrl> PresignUrl(const SignableRequest& request, const Credentials& credentials,
                                const SigningScope& scope, const SigningTime& time,
                                std::chrono::seconds expires, const SigningKey& key,
                                const SigningOptions& options) {
  CAIRN_RETURN_IF_ERROR(ValidateRequest(request));
  CAIRN_RETURN_IF_ERROR(ValidateSigner(request, credentials, scope));
  if (expires.count() < 1 || expires > kMaxPresignExpiry) {
    return RequestError(request,
                        "X-Amz-Expires must be 1..604800 seconds (S3 allows at most 7 "
                        "days), not " +
                            std::to_string(expires.count()));
  }
  // Presigned requests carry no x-amz-content-sha256 of the signer's own.
  CAIRN_RETURN_IF_ERROR(CheckNoSignerHeaders(request, /*content_sha256_is_ours=*/false));
  for (const auto& [name, value] : request.query) {
    for (std::string_view reserved : kSignerQueryParameters) {
      if (name == reserved) {
        return RequestError(request,
                            "query parameter " + QuoteForMessage(name) + " is set by the signer");
      }
    }
  }
  bool has_token = !credentials.session_token.empty();
  bool sign_token = has_token && options.session_token == SessionTokenSigning::kSigned;

  CanonicalHeaders headers = CanonicalizeHeaders(request.headers, {});
  std::string credential_scope = CredentialScope(time.date(), scope);
  std::string credential = credentials.access_key_id;
  credential.push_back('/');
  credential.append(credential_scope);

  EncodedQuery query = EncodeQuery(request.query, 6);
  query.emplace_back("X-Amz-Algorithm", kAlgorithm);
  query.emplace_back("X-Amz-Credential", UriEncode(credential, Slash::kEncode));
  query.emplace_back("X-Amz-Date", time.amz_date());
  query.emplace_back("X-Amz-Expires", std::to_string(expires.count()));
  if (sign_token) {
    query.emplace_back("X-Amz-Security-Token",
                       UriEncode(credentials.session_token, Slash::kEncode));
  }
  query.emplace_back("X-Amz-SignedHeaders", UriEncode(headers.signed_names, Slash::kEncode));

  PresignedUrl result;
  Sha256 sha;  // for the canonical request hash
  result.query = JoinSortedQuery(&query);
  result.canonical_request =
      BuildCanonicalRequest(request, options.uri_encoding, result.query, headers);
  result.string_to_sign = BuildStringToSign(&sha, time, credential_scope, result.canonical_request);
  result.signature = HexEncode(HmacSha256(KeyBytes(key), result.string_to_sign));
  if (has_token && !sign_token) {
    result.query.append("&X-Amz-Security-Token=");
    AppendUriEncoded(credentials.session_token, Slash::kEncode, &result.query);
  }
  result.query.append("&X-Amz-Signature=");
  result.query.append(result.signature);
  return result;
}

}  // namespace cairn::objstore::s3
