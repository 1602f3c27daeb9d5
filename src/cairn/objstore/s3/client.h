// S3Client: the S3 REST API, one call per request (HEAD, GET with ranges, PUT, DELETE,
// DeleteObjects, ListObjectsV2, CopyObject, the multipart calls, buckets), over an injected
// HttpClient, signed with SigV4.
//
// Every call returns a Status whose code says what to do next (see xml.h S3ErrorToStatus) and
// whose detail carries the HTTP status, the S3 error code and the request id. Messages put the
// operation and object first: "put s3://bucket/key: SlowDown: Please reduce your request rate
// (HTTP 503, request id X)". Transient failures are retried here with backoff and jitter
// (retry.h) when the request can be sent again: bodies must be rewindable for that.
//
// Integrity: PUT and UploadPart send Content-MD5 when the caller passes the body's MD5 (S3 then
// rejects corrupted bodies with BadDigest); payloads are sent UNSIGNED-PAYLOAD so the body is not
// hashed twice (the MD5 protects it; TLS protects it in transit on https).
//
// Thread safety: all methods may be called concurrently. The client does not own the HttpClient
// or the Env, which must outlive it.
#ifndef CAIRN_OBJSTORE_S3_CLIENT_H_
#define CAIRN_OBJSTORE_S3_CLIENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "cairn/common/hash.h"
#include "cairn/common/result.h"
#include "cairn/http/http_client.h"
#include "cairn/io/env.h"
#include "cairn/objstore/retry.h"
#include "cairn/objstore/s3/settings.h"
#include "cairn/objstore/s3/signer.h"
#include "cairn/objstore/s3/xml.h"

namespace cairn::objstore::s3 {

// What HEAD and GET tell about an object.
struct ObjectInfo {
  uint64_t size = 0;  // of the whole object (from Content-Range on a ranged GET)
  std::string etag;   // without quotes
  std::string version_id;
  int64_t last_modified = 0;  // Unix seconds; 0 if the server sent none
  std::string content_type;
  std::map<std::string, std::string> metadata;  // x-amz-meta-* without the prefix, lowercase
  // A reply to `?partNumber=N` from a store that honours it: the object's part count
  // (x-amz-mp-parts-count) and that part's length (its Content-Length). Both 0 otherwise; a store
  // that ignores partNumber (Ceph RGW 16) answers for the whole object and leaves them 0.
  int parts_count = 0;
  uint64_t part_length = 0;
};

// Byte range [offset, offset + length) of an object.
struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct GetOptions {
  std::optional<ByteRange> range;
  std::string if_match;  // an ETag (without quotes): fail with kFailedPrecondition if it changed
  std::string version_id;
  // HEAD only, 1..10,000: ask for that part of a multipart object (its length, the part count).
  int part_number = 0;
};

struct PutOptions {
  std::optional<Md5Digest> content_md5;  // of the body; sent as Content-MD5
  std::string content_type;
  std::map<std::string, std::string> metadata;  // sent as x-amz-meta-<name>
};

struct PutResult {
  std::string etag;  // without quotes
  std::string version_id;
};

struct ListOptions {
  std::string prefix;
  std::string delimiter;
  std::string start_after;
  std::string continuation_token;
  int max_keys = 1000;  // S3: at most 1,000 keys per page
};

struct ListVersionsOptions {
  std::string prefix;
  std::string key_marker;         // where the previous page ended (next_key_marker)
  std::string version_id_marker;  // and its next_version_id_marker
  int max_keys = 1000;
};

struct S3ClientOptions {
  RetryOptions retry;
  // Largest reply body read into memory (listings, errors); streamed GETs are not bounded by it.
  size_t max_reply_bytes = 16 << 20;
};

class S3Client {
 public:
  // `http` and `env` are not owned. Errors: settings without credentials.
  static Result<std::unique_ptr<S3Client>> Create(S3Settings settings, http::HttpClient* http,
                                                  io::Env* env, S3ClientOptions options = {});
  ~S3Client();

  const S3Settings& settings() const { return settings_; }

  // --- Objects
  Result<ObjectInfo> HeadObject(std::string_view bucket, std::string_view key,
                                const GetOptions& options = {});
  // Streams the object (or the range) to `sink`. Not retried once bytes reached the sink: the
  // caller (the transfer engine) resumes from what it has. A failing sink aborts the transfer.
  // `receive_into` (room for the whole reply): where the caller wants the bytes; the HTTP client
  // may put them there itself and hand the sink pieces already in place
  // (http::ResponseBody::StreamInto).
  Result<ObjectInfo> GetObject(std::string_view bucket, std::string_view key,
                               const GetOptions& options, const http::BodySink& sink,
                               std::span<char> receive_into = {});
  Result<PutResult> PutObject(std::string_view bucket, std::string_view key,
                              const http::RequestBody& body, const PutOptions& options = {});
  Status DeleteObject(std::string_view bucket, std::string_view key,
                      std::string_view version_id = {});
  // 1..1,000 keys per call (S3's limit); the reply lists per-key failures.
  Result<DeleteObjectsResult> DeleteObjects(std::string_view bucket,
                                            std::span<const ObjectIdentifier> objects,
                                            DeleteReport report = DeleteReport::kErrorsOnly);
  // Server-side copy of an object up to 5 GiB (larger ones: multipart UploadPartCopy).
  Result<CopyResult> CopyObject(std::string_view source_bucket, std::string_view source_key,
                                std::string_view bucket, std::string_view key,
                                std::string_view source_version_id = {});

  // --- Listing
  Result<ListObjectsV2Page> ListObjectsV2(std::string_view bucket, const ListOptions& options);
  // One page of ListObjectVersions (GET ?versions): every version and delete marker, newest first
  // for each key. A bucket that never had versioning lists each object once, version "null".
  Result<ListObjectVersionsPage> ListObjectVersions(std::string_view bucket,
                                                    const ListVersionsOptions& options);

  // --- Buckets
  Status CreateBucket(std::string_view bucket);
  Status DeleteBucket(std::string_view bucket);
  Result<ListBucketsResult> ListBuckets();

  // --- Multipart upload
  // Retried like every call; when an attempt's reply may have been lost after the store acted
  // on it, uploads of `key` that such attempts started (initiated while this call ran, other than
  // the one returned) are found with ListMultipartUploads and aborted, so no unnamed upload is left
  // holding space.
  Result<std::string> CreateMultipartUpload(std::string_view bucket, std::string_view key,
                                            const PutOptions& options = {});
  // Returns the part's ETag (without quotes). S3: parts are numbered 1..10,000.
  Result<std::string> UploadPart(std::string_view bucket, std::string_view key,
                                 std::string_view upload_id, int part_number,
                                 const http::RequestBody& body,
                                 std::optional<Md5Digest> content_md5);
  Result<CopyResult> UploadPartCopy(std::string_view bucket, std::string_view key,
                                    std::string_view upload_id, int part_number,
                                    std::string_view source_bucket, std::string_view source_key,
                                    std::optional<ByteRange> source_range);
  // Checks the body of a 200 reply for an <Error> (S3 may fail after answering 200).
  Result<CompleteMultipartUploadResult> CompleteMultipartUpload(
      std::string_view bucket, std::string_view key, std::string_view upload_id,
      std::span<const CompletedPart> parts);
  Status AbortMultipartUpload(std::string_view bucket, std::string_view key,
                              std::string_view upload_id);
  Result<ListPartsPage> ListParts(std::string_view bucket, std::string_view key,
                                  std::string_view upload_id, int32_t part_number_marker = 0);
  Result<ListMultipartUploadsPage> ListMultipartUploads(std::string_view bucket,
                                                        std::string_view prefix = {},
                                                        std::string_view key_marker = {},
                                                        std::string_view upload_id_marker = {});

 private:
  struct Call;
  S3Client(S3Settings settings, http::HttpClient* http, io::Env* env, S3ClientOptions options);

  // Sends one request (with retries), returns the 2xx reply or the S3 error as a Status.
  Result<http::HttpResponse> Execute(const Call& call);
  Result<http::HttpResponse> ExecuteOnce(const Call& call);
  // Aborts the uploads of `key` initiated while a CreateMultipartUpload ran (from `started` to
  // `finished`, local Unix seconds), but `own_upload_id`. Best effort: errors are ignored.
  void AbortStrayUploads(std::string_view bucket, std::string_view key,
                         std::string_view own_upload_id, int64_t started, int64_t finished);
  // The signing key for `date`, derived once per day.
  SigningKey KeyFor(std::string_view date);

  const S3Settings settings_;
  http::HttpClient* const http_;
  io::Env* const env_;
  const S3ClientOptions options_;
  RetryPolicy retry_;

  SeededRandom random_;  // jitter of retry delays; thread-safe

  std::mutex mu_;
  std::string key_date_;  // guarded by mu_
  SigningKey key_{};      // guarded by mu_
};

// "s3://bucket/key" for messages.
std::string S3Uri(std::string_view bucket, std::string_view key);

}  // namespace cairn::objstore::s3

#endif  // CAIRN_OBJSTORE_S3_CLIENT_H_
