// S3's XML: the bodies S3 (and RGW) answer with, and the two request bodies a client sends.
//
//   CAIRN_ASSIGN_OR_RETURN(ListObjectsV2Page page, ParseListObjectsV2(reply.body));
//   if (reply.status >= 300) return S3ErrorToStatus(reply.status, ParseError(reply.body), ctx);
//   CAIRN_ASSIGN_OR_RETURN(std::string body, BuildDeleteObjects(batch, DeleteReport::kErrorsOnly));
//
// Everything here is a pure function over bytes (STYLE.md §7): no I/O, no clock, no state, so every
// example of the S3 API reference and every RGW quirk is a plain unit test (xml_test.cc). pugixml
// does the parsing; it stays behind this header (nothing here names it), so users of the S3 client
// need neither its headers nor its types.
//
// Parsing rules, the same for every Parse* function:
// - Elements are matched by local name: a default namespace (AWS writes
//   xmlns="http://s3.amazonaws.com/doc/2006-03-01/", RGW sometimes without the trailing '/', fake
//   servers often none) and element prefixes are ignored. Unknown elements are skipped, so new
//   fields S3 adds (checksums, owners, restore status) do not break old clients.
// - A missing element leaves its field at the default (empty, 0, false). A present element whose
//   text is not a valid number, boolean or timestamp is an error: the value would be a guess.
// - A reply whose root is <Error> is that error, as a Status (see S3ErrorToStatus with HTTP 200):
//   S3 documents that CompleteMultipartUpload, CopyObject and UploadPartCopy may fail after sending
//   "200 OK" and then put an <Error> in the body, and a 200 ListObjectsV2 reply "can contain valid
//   or invalid XML". InternalError and SlowDown become kUnavailable (retry), as for a 5xx.
// - Malformed XML, another root element, or a page that says it is truncated but carries no marker
//   to continue from (which would silently end a listing early) is kInvalidArgument, with the
//   operation's name and, for malformed XML, pugixml's description and byte offset.
//
// Thread safety: every function is thread-safe. Nothing keeps state or references to arguments.
#ifndef CAIRN_OBJSTORE_S3_XML_H_
#define CAIRN_OBJSTORE_S3_XML_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/common/result.h"
#include "cairn/common/status.h"

namespace cairn::objstore::s3 {

// S3: at most 10,000 parts per multipart upload, numbered 1..10,000.
inline constexpr int32_t kMaxPartNumber = 10000;
// S3: DeleteObjects takes 1..1,000 keys per request.
inline constexpr size_t kMaxDeleteObjectsKeys = 1000;

// ---------------------------------------------------------------------------------------------
// Errors

// An S3 <Error> body. Every field is as the server sent it, or empty when it sent none.
struct S3Error {
  std::string code;  // "NoSuchKey", "SlowDown"; empty for a body that was not an S3 error document
  std::string message;  // may be empty: RGW often answers <Message/>
  std::string request_id;
  std::string host_id;
  std::string resource;
  std::string key;
  std::string bucket_name;
  std::string upload_id;
  std::string endpoint;  // PermanentRedirect / TemporaryRedirect: where the bucket lives
  // SignatureDoesNotMatch: what the server signed, to compare with HeaderSignature's.
  std::string canonical_request;
  std::string string_to_sign;
  // For a body that is not an S3 error document (an HTML page from a proxy or load balancer, plain
  // text): its readable text, whitespace collapsed, cut to about 200 bytes. Empty otherwise.
  std::string body_excerpt;
};

// Reads an error reply's body. Never fails: an empty body (every HEAD reply), an HTML page, plain
// text or a truncated document give whatever fields could be read, and the caller still has the
// HTTP status to go by. Also reads the <ErrorResponse><Error>…</Error></ErrorResponse> wrapping
// some S3-compatible servers use.
S3Error ParseError(std::string_view body);

// The Status for a failed S3 request, with a code chosen by what the caller should do:
//   kUnavailable        retry the call: SlowDown, ServiceUnavailable, InternalError,
//                       RequestTimeout, IncompleteBody, TemporaryRedirect; HTTP 408, 429, 5xx
//   kAborted            retry the operation: OperationAborted; other HTTP 409
//   kNotFound           NoSuchKey, NoSuchBucket, NoSuchUpload (RGW answers ListParts on an
//                       aborted upload with NoSuchKey), NoSuchVersion, …; HTTP 404
//   kPermissionDenied   AccessDenied, SignatureDoesNotMatch, InvalidAccessKeyId, …; HTTP 403
//   kUnauthenticated    ExpiredToken, InvalidToken, TokenRefreshRequired; HTTP 401
//   kFailedPrecondition PreconditionFailed (412), BucketNotEmpty, InvalidObjectState,
//                       RequestTimeTooSkewed (the clock, not the request, is wrong),
//                       PermanentRedirect (another region or endpoint), MethodNotAllowed
//   kDataLoss           BadDigest, InvalidDigest, XAmzContentSHA256Mismatch: bytes did not match
//   kInvalidArgument    EntityTooSmall, EntityTooLarge, InvalidPart, InvalidPartOrder,
//                       InvalidArgument, MalformedXML, InvalidRequest, …; other HTTP 4xx
//   kAlreadyExists      BucketAlreadyOwnedByYou, BucketAlreadyExists
//   kOutOfRange         InvalidRange (416)
//   kResourceExhausted  QuotaExceeded, TooManyBuckets
//   kUnimplemented      NotImplemented; HTTP 501
//   kUnknown            an unknown code with a status that says nothing (a 200 carrying <Error>)
// A known S3 code decides; otherwise the HTTP status does. The message puts `context` first:
// "<context>: <code>: <message>" ("<context>: NoSuchKey" when the message is empty, and
// "<context>: HTTP 502: <body excerpt>" without a code); server text is cleaned of control
// characters and cut to a sane length. The detail carries http_status, service_code (the S3
// code) and request_id.
Status S3ErrorToStatus(int http_status, const S3Error& error, std::string_view context);

// ---------------------------------------------------------------------------------------------
// Replies

// A time as S3 wrote it, and the same instant in Unix seconds (any fraction dropped).
struct Timestamp {
  std::string text;  // "2009-10-12T17:50:30.000Z"; empty when the element was absent
  int64_t unix_seconds = 0;
};

// Seconds since the Unix epoch of an S3 timestamp: ISO 8601 as S3 writes it
// ("2009-10-12T17:50:30.000Z", any number of fraction digits, "Z", "+hh:mm", "+hhmm" or no zone,
// which means UTC) or the RFC 1123 form of HTTP headers and old S3 documents
// ("Wed, 27 Jan 2010 03:02:03 GMT"). kInvalidArgument for anything else, including impossible
// dates (2021-02-29) and years outside 1..9999.
Result<int64_t> ParseS3Timestamp(std::string_view text);

// One <Contents> entry of ListObjectsV2.
struct ObjectSummary {
  std::string key;  // URL-decoded when the page's encoding_type is "url"
  int64_t size = 0;
  std::string etag;  // without its quotes: "3858f62230ac3c915f300c664312c11f-9"
  Timestamp last_modified;
  std::string storage_class;
};

// A ListObjectsV2 page (root <ListBucketResult>).
struct ListObjectsV2Page {
  std::string bucket;  // <Name>
  std::string prefix;
  std::string delimiter;
  std::string start_after;
  std::string continuation_token;
  // The token for the next page; never empty when is_truncated (enforced).
  std::string next_continuation_token;
  // "url" when the request asked for encoding-type=url: S3 then percent-encodes the keys, prefixes,
  // delimiter and start-after (to carry characters XML 1.0 cannot), and they are decoded here.
  std::string encoding_type;
  std::optional<int64_t> key_count;  // nullopt when the server omitted <KeyCount>
  bool is_truncated = false;
  std::vector<ObjectSummary> contents;
  std::vector<std::string> common_prefixes;
};
Result<ListObjectsV2Page> ParseListObjectsV2(std::string_view body);

// One <Version> or <DeleteMarker> of ListObjectVersions.
struct ObjectVersion {
  std::string key;
  std::string version_id;  // "null" for an object written before versioning was enabled
  bool is_latest = false;
  bool is_delete_marker = false;
  int64_t size = 0;  // 0 for a delete marker
  std::string etag;  // without quotes; empty for a delete marker
  Timestamp last_modified;
  std::string storage_class;
};

// A ListObjectVersions page (root <ListVersionsResult>).
struct ListObjectVersionsPage {
  std::string bucket;
  std::string prefix;
  std::string delimiter;
  std::string key_marker;
  std::string version_id_marker;
  std::string next_key_marker;  // never empty when is_truncated (enforced)
  std::string next_version_id_marker;
  std::string encoding_type;  // as for ListObjectsV2Page
  bool is_truncated = false;
  // Versions and delete markers together, in the order of the reply: for each key, newest first.
  std::vector<ObjectVersion> versions;
  std::vector<std::string> common_prefixes;
};
Result<ListObjectVersionsPage> ParseListObjectVersions(std::string_view body);

// CreateMultipartUpload's reply (root <InitiateMultipartUploadResult>).
struct InitiateMultipartUploadResult {
  std::string bucket;
  std::string key;
  std::string upload_id;  // never empty (a reply without one is kInvalidArgument)
};
Result<InitiateMultipartUploadResult> ParseInitiateMultipartUpload(std::string_view body);

// CompleteMultipartUpload's reply (root <CompleteMultipartUploadResult>, or <Error> after a 200).
struct CompleteMultipartUploadResult {
  std::string location;
  std::string bucket;
  std::string key;
  std::string etag;  // without quotes: "<hex md5 of the part md5s>-<part count>"
};
// S3 sends "200 OK" first and then, minutes later, the result or an <Error>, with whitespace in
// between to keep the connection open; both are handled (leading whitespace is skipped). Check
// this before believing a 200.
Result<CompleteMultipartUploadResult> ParseCompleteMultipartUpload(std::string_view body);

// CopyObject's <CopyObjectResult> and UploadPartCopy's <CopyPartResult>. Each parser accepts
// either root, as the two are the same shape; both may be an <Error> after a 200, like Complete.
struct CopyResult {
  std::string etag;  // without quotes
  Timestamp last_modified;
};
Result<CopyResult> ParseCopyObjectResult(std::string_view body);
Result<CopyResult> ParseCopyPartResult(std::string_view body);

// One <Part> of ListParts.
struct PartSummary {
  int32_t part_number = 0;
  std::string etag;  // without quotes
  int64_t size = 0;
  Timestamp last_modified;
};

// A ListParts page (root <ListPartsResult>).
struct ListPartsPage {
  std::string bucket;
  std::string key;
  std::string upload_id;
  int32_t part_number_marker = 0;
  int32_t next_part_number_marker = 0;  // never 0 when is_truncated (enforced)
  int32_t max_parts = 0;
  bool is_truncated = false;
  std::vector<PartSummary> parts;
};
Result<ListPartsPage> ParseListParts(std::string_view body);

// One <Upload> of ListMultipartUploads.
struct MultipartUploadSummary {
  std::string key;  // URL-decoded when the page's encoding_type is "url"
  std::string upload_id;
  Timestamp initiated;
  std::string storage_class;
};

// A ListMultipartUploads page (root <ListMultipartUploadsResult>).
struct ListMultipartUploadsPage {
  std::string bucket;
  std::string prefix;
  std::string delimiter;
  std::string key_marker;
  std::string upload_id_marker;
  std::string next_key_marker;  // never empty when is_truncated (enforced)
  std::string next_upload_id_marker;
  std::string encoding_type;  // as for ListObjectsV2Page
  bool is_truncated = false;
  std::vector<MultipartUploadSummary> uploads;
  std::vector<std::string> common_prefixes;
};
Result<ListMultipartUploadsPage> ParseListMultipartUploads(std::string_view body);

// DeleteObjects' reply (root <DeleteResult>): one entry per key, deleted or failed. In quiet mode
// (DeleteReport::kErrorsOnly) S3 lists only the failures.
struct DeletedObject {
  std::string key;
  std::string version_id;
  bool delete_marker = false;  // a delete marker was created (versioned bucket) or removed
  std::string delete_marker_version_id;
};
struct DeleteObjectError {
  std::string key;
  std::string version_id;
  std::string code;  // "AccessDenied", … (map with S3ErrorToStatus if a Status is wanted)
  std::string message;
};
struct DeleteObjectsResult {
  std::vector<DeletedObject> deleted;
  std::vector<DeleteObjectError> errors;
};
Result<DeleteObjectsResult> ParseDeleteObjectsResult(std::string_view body);

// ListBuckets' reply (root <ListAllMyBucketsResult>).
struct BucketSummary {
  std::string name;
  Timestamp creation_date;
};
struct ListBucketsResult {
  std::vector<BucketSummary> buckets;
  std::string continuation_token;  // set when the reply is one page of a paginated listing
};
Result<ListBucketsResult> ParseListBuckets(std::string_view body);

// ---------------------------------------------------------------------------------------------
// Request bodies
//
// Text goes in as UTF-8 and is escaped (&, <, > as entities; CR as &#13;, since XML parsers turn
// a raw CR into LF). Text XML 1.0 cannot carry at all — U+0000..U+001F other than tab, LF and CR,
// U+FFFE, U+FFFF — or that is not valid UTF-8 is kInvalidArgument naming the offending key: no
// escape exists for it in an XML 1.0 body, so such keys must go through requests that carry the
// key in the URL (DeleteObject rather than DeleteObjects).

// One part of CompleteMultipartUpload.
struct CompletedPart {
  int32_t part_number = 0;
  std::string etag;  // as UploadPart returned it; quotes are added when missing
};

// The CompleteMultipartUpload body. kInvalidArgument unless there is at least one part, part
// numbers are strictly ascending (so unique) within 1..kMaxPartNumber — S3 wants them in order —
// and every ETag is non-empty text XML can carry.
Result<std::string> BuildCompleteMultipartUpload(std::span<const CompletedPart> parts);

// One key for DeleteObjects.
struct ObjectIdentifier {
  std::string key;
  std::string version_id;  // empty: the current version (a delete marker in a versioned bucket)
};

// What S3 lists in DeleteObjects' reply: every key (kAll) or only failures (kErrorsOnly, S3's
// <Quiet>true</Quiet>, which keeps the reply small for batches of 1,000).
enum class DeleteReport { kAll, kErrorsOnly };

// The DeleteObjects body. kInvalidArgument unless 1..kMaxDeleteObjectsKeys objects are given,
// every key is non-empty, and keys and version ids are text XML can carry. (The request also
// needs a Content-MD5 header of this body; that is the client's job.)
Result<std::string> BuildDeleteObjects(std::span<const ObjectIdentifier> objects,
                                       DeleteReport report);

}  // namespace cairn::objstore::s3

#endif  // CAIRN_OBJSTORE_S3_XML_H_
