// AWS Signature Version 4 (SigV4) for S3 requests: the Authorization header and presigned URLs.
//
//   SigningKey key = DeriveSigningKey(creds.secret_access_key, time.date(), scope.region,
//                                     scope.service);          // once per day, region, service
//   CAIRN_ASSIGN_OR_RETURN(HeaderSignature sig,
//                          SignHeaders(request, creds, scope, time, key));
//   for (auto& [name, value] : sig.headers) http_request.AddHeader(name, value);
//
// Everything here is a pure function: credentials and time are parameters, nothing reads a clock,
// the environment or the network (STYLE.md §7), so every vector of the AWS signing test suite and
// the S3 documentation is a plain unit test (signer_test.cc).
//
// The steps are those of the specification: canonical request → string to sign → HMAC with the
// signing key derived from the secret, the date, the region and the service. S3 differs from other
// AWS services in two ways, hence UriEncoding: it neither normalizes the path ("/a/../b" and "//"
// are distinct object keys) nor encodes it a second time; and it requires x-amz-content-sha256.
//
// Thread safety: every function is thread-safe. Nothing here keeps state or a reference to its
// arguments beyond the call.
#ifndef CAIRN_OBJSTORE_S3_SIGNER_H_
#define CAIRN_OBJSTORE_S3_SIGNER_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/common/hash.h"
#include "cairn/common/result.h"
#include "cairn/common/status.h"

namespace cairn::objstore::s3 {

// SHA-256 of the empty string: the payload hash of a request without a body.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
// S3's payload "hash" when the body is not signed (presigned URLs; or PUT over TLS when the body is
// protected by Content-MD5 instead, which saves hashing every byte twice).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

// Longest presigned URL lifetime S3 accepts: 7 days (sigv4-query-string-auth, X-Amz-Expires).
inline constexpr std::chrono::seconds kMaxPresignExpiry{604800};

using HeaderList = std::vector<std::pair<std::string, std::string>>;
using QueryList = std::vector<std::pair<std::string, std::string>>;

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  // Temporary (STS) credentials only; empty otherwise. Sent as X-Amz-Security-Token.
  std::string session_token;
};

// The parts of an HTTP request that SigV4 covers.
struct SignableRequest {
  std::string method;  // "GET", "PUT", ...
  // The path exactly as it will be sent, already URI-encoded for S3 (UriEncode(key, Slash::kKeep)
  // after the "/bucket/" prefix of a path-style URL). It must start with '/' and must not contain
  // '?' or '#': the query goes in `query`.
  std::string path;
  // Decoded names and values, in any order; a parameter without a value ("?uploads") has "".
  // The signer encodes and sorts them; send them as CanonicalQueryString(query) so that the bytes
  // on the wire decode to what was signed.
  QueryList query;
  // Every header here is signed, in any order and case; repeated names are allowed (their values
  // are joined with ',', in the order given). Must include Host. Must not include the headers the
  // signer adds (Authorization, X-Amz-Date, X-Amz-Security-Token, and X-Amz-Content-Sha256 when
  // SignHeaders adds it). Headers that proxies may rewrite (User-Agent, Accept-Encoding) are best
  // left out and added after signing.
  HeaderList headers;
  // Lowercase hex SHA-256 of the body, kEmptyPayloadSha256, kUnsignedPayload, or one of S3's
  // "STREAMING-..." values for chunked uploads.
  std::string payload_sha256_hex;
};

// What the signature is valid for: "<date>/<region>/<service>/aws4_request".
struct SigningScope {
  std::string region;  // "us-east-1"; RGW accepts any name, typically its zonegroup's
  std::string service = "s3";
};

// A signing instant, with its two SigV4 spellings precomputed.
class SigningTime {
 public:
  // kInvalidArgument outside 1970-01-01..9999-12-31 (SigV4 writes four-digit years).
  static Result<SigningTime> FromUnixSeconds(int64_t unix_seconds);

  int64_t unix_seconds() const { return unix_seconds_; }
  // ISO 8601 basic format in UTC, the X-Amz-Date value: "20130524T000000Z".
  std::string_view amz_date() const { return std::string_view(text_, sizeof text_); }
  // The date part, used in the credential scope: "20130524".
  std::string_view date() const { return amz_date().substr(0, 8); }

 private:
  SigningTime() = default;

  int64_t unix_seconds_ = 0;
  char text_[16] = {};
};

// How the request path becomes the canonical URI.
enum class UriEncoding {
  // S3: no normalization; the path is taken as sent. Bytes that are not unreserved and not '/' are
  // percent-encoded, and existing %XX escapes are kept (hex digits upper-cased), so a path encoded
  // with UriEncode(key, Slash::kKeep) is its own canonical URI.
  kS3,
  // Every other AWS service (and the generic aws-c-auth test suite): remove "." and ".." segments
  // and empty segments, then percent-encode the result once more ('%' becomes "%25"), because
  // those services sign the encoded path rather than the decoded one.
  kNormalizeAndDoubleEncode,
};

// Whether SignHeaders adds and signs x-amz-content-sha256 with the payload hash. S3 requires it;
// most other services do not know it.
enum class PayloadHashHeader { kAdd, kOmit };

// Whether a session token is covered by the signature. AWS signs it; a few services (IoT's
// websocket endpoint) want it added after signing. Only matters when a token is present.
enum class SessionTokenSigning { kSigned, kAddedAfterSigning };

struct SigningOptions {
  UriEncoding uri_encoding = UriEncoding::kS3;
  PayloadHashHeader payload_hash_header = PayloadHashHeader::kAdd;
  SessionTokenSigning session_token = SessionTokenSigning::kSigned;
};

// Whether UriEncode leaves '/' alone (object keys in paths) or encodes it (query names and values).
enum class Slash { kKeep, kEncode };

// RFC 3986 percent-encoding as SigV4 defines it: A-Z a-z 0-9 - . _ ~ are kept, every other byte
// becomes %XX with upper-case hex ("a b+c" → "a%20b%2Bc"; a space is never '+'). UTF-8 text is
// encoded byte by byte.
std::string UriEncode(std::string_view text, Slash slash);
void AppendUriEncoded(std::string_view text, Slash slash, std::string* out);

// The canonical URI of `path` (see UriEncoding). REQUIRES: path starts with '/'.
std::string CanonicalUri(std::string_view path, UriEncoding encoding);

// Names and values encoded with Slash::kEncode, sorted by encoded name then encoded value, joined
// as "a=1&b=&c=3". Also the query string to send with a header-signed request.
std::string CanonicalQueryString(const QueryList& query);

// The canonical request of `request` exactly as given: every header in it is signed, nothing is
// added. (SignHeaders and PresignUrl add their X-Amz-* headers or parameters first; their results
// carry the canonical request they actually signed.) kInvalidArgument for a malformed request.
Result<std::string> CanonicalRequest(const SignableRequest& request, UriEncoding encoding);

// "20130524/us-east-1/s3/aws4_request".
std::string CredentialScope(std::string_view date, const SigningScope& scope);

// "AWS4-HMAC-SHA256\n<amz date>\n<credential scope>\n<hex SHA-256 of canonical_request>".
std::string StringToSign(const SigningTime& time, const SigningScope& scope,
                         std::string_view canonical_request);

// HMAC-SHA256("AWS4" + secret, date) → region → service → "aws4_request". The same for every
// request of one UTC day, region and service, so a client derives it once a day rather than
// spending four HMACs per request. `date` is SigningTime::date(). The key is as secret as the
// secret access key it came from.
using SigningKey = Sha256Digest;
SigningKey DeriveSigningKey(std::string_view secret_access_key, std::string_view date,
                            std::string_view region, std::string_view service);

// Lowercase hex HMAC-SHA256(key, string_to_sign): the signature.
std::string SignatureHex(const SigningKey& key, std::string_view string_to_sign);

// The result of SignHeaders.
struct HeaderSignature {
  // To add to the request as they are, in this order: X-Amz-Date, X-Amz-Content-Sha256 (unless
  // PayloadHashHeader::kOmit), X-Amz-Security-Token (with a session token), Authorization.
  HeaderList headers;
  // What was signed, for debugging a SignatureDoesNotMatch (S3 returns its own canonical request
  // in the error body). Neither contains a secret.
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // 64 lowercase hex digits, also inside the Authorization header
};

// Signs `request` for the Authorization header at `time`. kInvalidArgument for a malformed request,
// credentials or scope, or a request carrying a header the signer adds.
// REQUIRES (second form): key == DeriveSigningKey(credentials.secret_access_key, time.date(),
// scope.region, scope.service); a key for another day gives a signature S3 rejects.
Result<HeaderSignature> SignHeaders(const SignableRequest& request, const Credentials& credentials,
                                    const SigningScope& scope, const SigningTime& time,
                                    const SigningOptions& options = {});
Result<HeaderSignature> SignHeaders(const SignableRequest& request, const Credentials& credentials,
                                    const SigningScope& scope, const SigningTime& time,
                                    const SigningKey& key, const SigningOptions& options = {});

// The result of PresignUrl.
struct PresignedUrl {
  // The whole query string to send, without the '?': the request's own parameters and the X-Amz-*
  // ones, canonically encoded and sorted, then X-Amz-Signature. The URL is
  // scheme "://" host request.path "?" query.
  std::string query;
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;
};

// Signs `request` into a URL that anyone holding it may use until time + expires (query-string
// authentication). Use payload_sha256_hex = kUnsignedPayload unless the body is known in advance.
// The request's headers are signed too, so whoever uses the URL must send exactly those (Host at
// least). X-Amz-Content-Sha256 is never added here, whatever options.payload_hash_header says.
// kInvalidArgument when expires is outside 1..604800 seconds, for a malformed request, credentials
// or scope, or a request carrying an X-Amz-* parameter the signer adds.
// REQUIRES (second form): as for SignHeaders.
Result<PresignedUrl> PresignUrl(const SignableRequest& request, const Credentials& credentials,
                                const SigningScope& scope, const SigningTime& time,
                                std::chrono::seconds expires, const SigningOptions& options = {});
Result<PresignedUrl> PresignUrl(const SignableRequest& request, const Credentials& credentials,
                                const SigningScope& scope, const SigningTime& time,
                                std::chrono::seconds expires, const SigningKey& key,
                                const SigningOptions& options = {});

}  // namespace cairn::objstore::s3

#endif  // CAIRN_OBJSTORE_S3_SIGNER_H_
