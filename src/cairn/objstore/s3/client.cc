#include "cairn/objstore/s3/client.h"

#include <algorithm>
#include <random>

#include "cairn/common/base64.h"
#include "cairn/common/text.h"
#include "cairn/objstore/s3/addressing.h"

namespace cairn::objstore::s3 {
namespace {

std::string_view Unquote(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    return etag.substr(1, etag.size() - 2);
  }
  return etag;
}

std::string ContentMd5(const Md5Digest& digest) {
  return Base64Encode(
      std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

// Lowercase ASCII (header names).
std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

ObjectInfo InfoFromHeaders(const http::HttpHeaders& headers) {
  ObjectInfo info;
  if (auto v = headers.Get("Content-Length"))
    info.size = std::strtoull(std::string(*v).c_str(), nullptr, 10);
  // "bytes 0-99/1234": the whole object's size follows the slash.
  if (auto v = headers.Get("Content-Range")) {
    size_t slash = v->rfind('/');
    if (slash != std::string_view::npos && v->substr(slash + 1) != "*") {
      info.size = std::strtoull(std::string(v->substr(slash + 1)).c_str(), nullptr, 10);
    }
  }
  if (auto v = headers.Get("ETag")) info.etag = std::string(Unquote(*v));
  if (auto v = headers.Get("x-amz-version-id")) info.version_id = std::string(*v);
  if (auto v = headers.Get("Content-Type")) info.content_type = std::string(*v);
  if (auto v = headers.Get("Last-Modified")) {
    if (Result<int64_t> t = ParseS3Timestamp(*v); t.ok()) info.last_modified = *t;
  }
  constexpr std::string_view kMeta = "x-amz-meta-";
  for (const auto& [name, value] : headers.entries()) {
    std::string lower = Lower(name);
    if (lower.starts_with(kMeta)) info.metadata[lower.substr(kMeta.size())] = value;
  }
  return info;
}

}  // namespace

std::string S3Uri(std::string_view bucket, std::string_view key) {
  std::string uri = "s3://";
  uri += bucket;
  if (!key.empty()) {
    uri += '/';
    uri += key;
  }
  return uri;
}

// One S3 request, before addressing and signing.
struct S3Client::Call {
  std::string_view method = {};
  std::string_view bucket = {};
  std::string_view key = {};
  QueryList query = {};
  HeaderList headers = {};  // signed
  const http::RequestBody* body = nullptr;
  const http::BodySink* sink = nullptr;  // stream a 2xx body there instead of collecting it
  std::string what = {};                 // "put s3://b/k", for messages
  // With `sink`: checks a 2xx reply's headers before any body byte reaches the sink.
  http::HeadersCallback on_headers = nullptr;
  int* attempts = nullptr;            // if set: how many times the request was sent
  std::span<char> receive_into = {};  // with `sink`: see GetObject
};

Result<std::unique_ptr<S3Client>> S3Client::Create(S3Settings settings, http::HttpClient* http,
                                                   io::Env* env, S3ClientOptions options) {
  if (settings.credentials.access_key_id.empty() ||
      settings.credentials.secret_access_key.empty()) {
    return UnauthenticatedError("S3 client: no credentials");
  }
  if (settings.region.empty()) return InvalidArgumentError("S3 client: no region");
  return std::unique_ptr<S3Client>(new S3Client(std::move(settings), http, env, options));
}

S3Client::S3Client(S3Settings settings, http::HttpClient* http, io::Env* env,
                   S3ClientOptions options)
    : settings_(std::move(settings)),
      http_(http),
      env_(env),
      options_(options),
      retry_(options.retry, std::make_shared<RetryBudget>()),
      random_(std::random_device{}()) {}

S3Client::~S3Client() = default;

SigningKey S3Client::KeyFor(std::string_view date) {
  std::lock_guard lock(mu_);
  if (key_date_ != date) {
    key_ = DeriveSigningKey(settings_.credentials.secret_access_key, date, settings_.region, "s3");
    key_date_ = std::string(date);
  }
  return key_;
}

Result<http::HttpResponse> S3Client::ExecuteOnce(const Call& call) {
  CAIRN_ASSIGN_OR_RETURN(S3Target target, ResolveTarget(settings_, call.bucket, call.key));
  CAIRN_ASSIGN_OR_RETURN(SigningTime time, SigningTime::FromUnixSeconds(env_->NowUnixSeconds()));
  SignableRequest signable;
  signable.method = std::string(call.method);
  signable.path = target.path;
  signable.query = call.query;
  signable.headers = call.headers;
  signable.headers.emplace_back("Host", target.host);
  bool has_body = call.body != nullptr && !call.body->empty();
  signable.payload_sha256_hex = has_body ? kUnsignedPayload : kEmptyPayloadSha256;
  SigningScope scope{settings_.region, "s3"};
  CAIRN_ASSIGN_OR_RETURN(HeaderSignature signature, SignHeaders(signable, settings_.credentials,
                                                                scope, time, KeyFor(time.date())));

  http::HttpRequest request;
  request.method = signable.method;
  request.url = target.url;
  if (!call.query.empty()) request.url += "?" + CanonicalQueryString(call.query);
  request.url_for_messages = target.url;
  request.headers = std::move(signable.headers);
  for (auto& header : signature.headers) request.headers.push_back(std::move(header));
  if (has_body) request.body = *call.body;

  http::ResponseBody response_body =
      call.sink == nullptr ? http::ResponseBody::Collect(options_.max_reply_bytes)
      : call.receive_into.empty()
          ? http::ResponseBody::Stream(*call.sink, call.on_headers)
          : http::ResponseBody::StreamInto(call.receive_into, *call.sink, call.on_headers);
  Result<http::HttpResponse> response = http_->Send(request, response_body);
  if (!response.ok()) return response.status().WithContext(call.what);
  if (response->status_code >= 200 && response->status_code < 300) return response;
  S3Error error = ParseError(response->body);
  return S3ErrorToStatus(response->status_code, error, call.what);
}

Result<http::HttpResponse> S3Client::Execute(const Call& call) {
  Result<http::HttpResponse> result = InternalError("not sent");
  uint64_t delivered = 0;
  Call attempt_call = call;
  http::BodySink counting;
  if (call.sink != nullptr) {
    counting = [&delivered, &call](std::string_view piece) {
      delivered += piece.size();
      return (*call.sink)(piece);
    };
    attempt_call.sink = &counting;
  }
  Status status = RunWithRetries(
      retry_, env_, &random_,
      [&](RetryAttempt* attempt) -> Status {
        if (attempt->number > 0) {
          if (delivered > 0) {
            // Bytes already reached the sink: a resend would repeat them.
            return AbortedError("the reply was cut after " + std::to_string(delivered) +
                                " bytes had been delivered");
          }
          if (call.body != nullptr && !call.body->empty()) {
            CAIRN_RETURN_IF_ERROR(call.body->Rewind());
          }
        }
        if (call.attempts != nullptr) *call.attempts = attempt->number + 1;
        result = ExecuteOnce(attempt_call);
        return result.status();
      },
      call.what);
  if (!status.ok()) return status;
  return result;
}

Result<ObjectInfo> S3Client::HeadObject(std::string_view bucket, std::string_view key,
                                        const GetOptions& options) {
  Call call{.method = "HEAD", .bucket = bucket, .key = key, .what = "stat " + S3Uri(bucket, key)};
  if (!options.version_id.empty()) call.query.emplace_back("versionId", options.version_id);
  if (!options.if_match.empty())
    call.headers.emplace_back("If-Match", "\"" + options.if_match + "\"");
  if (options.part_number != 0) {
    if (options.part_number < 1 || options.part_number > kMaxPartNumber) {
      return InvalidArgumentError(call.what + ": part number " +
                                  std::to_string(options.part_number) + " is outside 1..10000");
    }
    call.query.emplace_back("partNumber", std::to_string(options.part_number));
  }
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse response, Execute(call));
  ObjectInfo info = InfoFromHeaders(response.headers);
  if (options.part_number != 0) {
    std::optional<std::string_view> count = response.headers.Get("x-amz-mp-parts-count");
    std::optional<std::string_view> length = response.headers.Get("Content-Length");
    if (count && length) {
      std::optional<uint64_t> n = ParseDecimal(*count);
      std::optional<uint64_t> bytes = ParseDecimal(*length);
      if (n && bytes && *n >= 1 && *n <= uint64_t(kMaxPartNumber) && *bytes <= info.size) {
        info.parts_count = static_cast<int>(*n);
        info.part_length = *bytes;
      }
    }
  }
  return info;
}

Result<ObjectInfo> S3Client::GetObject(std::string_view bucket, std::string_view key,
                                       const GetOptions& options, const http::BodySink& sink,
                                       std::span<char> receive_into) {
  Call call{.method = "GET",
            .bucket = bucket,
            .key = key,
            .sink = &sink,
            .what = "get " + S3Uri(bucket, key)};
  call.receive_into = receive_into;
  if (!options.version_id.empty()) call.query.emplace_back("versionId", options.version_id);
  if (!options.if_match.empty())
    call.headers.emplace_back("If-Match", "\"" + options.if_match + "\"");
  if (options.range) {
    if (options.range->length == 0) return InvalidArgumentError(call.what + ": empty range");
    uint64_t first = options.range->offset;
    uint64_t last = first + options.range->length - 1;
    call.headers.emplace_back("Range",
                              "bytes=" + std::to_string(first) + "-" + std::to_string(last));
    // A server that ignores Range answers 200 with the whole object: refuse it before a byte of
    // the wrong range reaches the sink.
    call.on_headers = [first](const http::HttpResponse& response) -> Status {
      if (response.status_code < 200 || response.status_code >= 300) return Status();  // an error
      std::optional<std::string_view> content_range = response.headers.Get("Content-Range");
      std::string want = "bytes " + std::to_string(first) + "-";
      if (response.status_code != 206 || !content_range || !content_range->starts_with(want)) {
        return DataLossError("asked for bytes from " + std::to_string(first) + ", got HTTP " +
                             std::to_string(response.status_code) +
                             (content_range ? " " + std::string(*content_range) : ""));
      }
      return Status();
    };
  }
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse response, Execute(call));
  ObjectInfo info = InfoFromHeaders(response.headers);
  // The range may run past the end of the object: S3 then sends what there is.
  uint64_t expected = info.size;
  if (options.range) {
    uint64_t available = info.size > options.range->offset ? info.size - options.range->offset : 0;
    expected = std::min(options.range->length, available);
  }
  if (response.body_bytes != expected) {
    return DataLossError(call.what + ": received " + std::to_string(response.body_bytes) +
                         " bytes, expected " + std::to_string(expected));
  }
  return info;
}

Result<PutResult> S3Client::PutObject(std::string_view bucket, std::string_view key,
                                      const http::RequestBody& body, const PutOptions& options) {
  Call call{.method = "PUT",
            .bucket = bucket,
            .key = key,
            .body = &body,
            .what = "put " + S3Uri(bucket, key)};
  if (options.content_md5)
    call.headers.emplace_back("Content-MD5", ContentMd5(*options.content_md5));
  if (!options.content_type.empty())
    call.headers.emplace_back("Content-Type", options.content_type);
  for (const auto& [name, value] : options.metadata) {
    call.headers.emplace_back("x-amz-meta-" + name, value);
  }
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse response, Execute(call));
  PutResult result;
  if (auto v = response.headers.Get("ETag")) result.etag = std::string(Unquote(*v));
  if (auto v = response.headers.Get("x-amz-version-id")) result.version_id = std::string(*v);
  if (options.content_md5 && result.etag != HexEncode(*options.content_md5)) {
    return DataLossError(call.what + ": the server's ETag " + result.etag +
                         " is not the MD5 of what was sent (" + HexEncode(*options.content_md5) +
                         ")");
  }
  return result;
}

Status S3Client::DeleteObject(std::string_view bucket, std::string_view key,
                              std::string_view version_id) {
  Call call{
      .method = "DELETE", .bucket = bucket, .key = key, .what = "delete " + S3Uri(bucket, key)};
  if (!version_id.empty()) call.query.emplace_back("versionId", std::string(version_id));
  return Execute(call).status();
}

Result<DeleteObjectsResult> S3Client::DeleteObjects(std::string_view bucket,
                                                    std::span<const ObjectIdentifier> objects,
                                                    DeleteReport report) {
  CAIRN_ASSIGN_OR_RETURN(std::string xml, BuildDeleteObjects(objects, report));
  http::RequestBody body = http::RequestBody::FromBytes(xml);
  Call call{
      .method = "POST",
      .bucket = bucket,
      .query = {{"delete", ""}},
      .body = &body,
      .what = "delete " + std::to_string(objects.size()) + " objects in " + S3Uri(bucket, "")};
  // S3 requires Content-MD5 on DeleteObjects (and Swift's s3api insists on it).
  call.headers.emplace_back("Content-MD5", ContentMd5(Md5Of(xml)));
  call.headers.emplace_back("Content-Type", "application/xml");
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse response, Execute(call));
  return ParseDeleteObjectsResult(response.body);
}

Result<CopyResult> S3Client::CopyObject(std::string_view source_bucket, std::string_view source_key,
                                        std::string_view bucket, std::string_view key,
                                        std::string_view source_version_id) {
  Call call{.method = "PUT",
            .bucket = bucket,
            .key = key,
            .what = "copy " + S3Uri(source_bucket, source_key) + " to " + S3Uri(bucket, key)};
  std::string source = "/" + std::string(source_bucket) + "/";
  AppendUriEncoded(source_key, Slash::kKeep, &source);
  if (!source_version_id.empty()) source += "?versionId=" + std::string(source_version_id);
  call.headers.emplace_back("x-amz-copy-source", source);
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse response, Execute(call));
  Result<CopyResult> result = ParseCopyObjectResult(response.body);
  if (!result.ok()) return result.status().WithContext(call.what);
  return result;
}

Result<ListObjectsV2Page> S3Client::ListObjectsV2(std::string_view bucket,
                                                  const ListOptions& options) {
  Call call{.method = "GET", .bucket = bucket, .what = "list " + S3Uri(bucket, options.prefix)};
  call.query = {
      {"list-type", "2"}, {"encoding-type", "url"}, {"max-keys", std::to_string(options.max_keys)}};
  if (!options.prefix.empty()) call.query.emplace_back("prefix", options.prefix);
  if (!options.delimiter.empty()) call.query.emplace_back("delimiter", options.delimiter);
  if (!options.start_after.empty()) call.query.emplace_back("start-after", options.start_after);
  if (!options.continuation_token.empty()) {
    call.query.emplace_back("continuation-token", options.continuation_token);
  }
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse response, Execute(call));
  Result<ListObjectsV2Page> page = ParseListObjectsV2(response.body);
  if (!page.ok()) return page.status().WithContext(call.what);
  return page;
}

Result<ListObjectVersionsPage> S3Client::ListObjectVersions(std::string_view bucket,
                                                            const ListVersionsOptions& options) {
  Call call{
      .method = "GET", .bucket = bucket, .what = "list versions " + S3Uri(bucket, options.prefix)};
  call.query = {
      {"versions", ""}, {"encoding-type", "url"}, {"max-keys", std::to_string(options.max_keys)}};
  if (!options.prefix.empty()) call.query.emplace_back("prefix", options.prefix);
  if (!options.key_marker.empty()) call.query.emplace_back("key-marker", options.key_marker);
  if (!options.version_id_marker.empty()) {
    call.query.emplace_back("version-id-marker", options.version_id_marker);
  }
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse response, Execute(call));
  Result<ListObjectVersionsPage> page = ParseListObjectVersions(response.body);
  if (!page.ok()) return page.status().WithContext(call.what);
  return page;
}

Status S3Client::CreateBucket(std::string_view bucket) {
  Call call{.method = "PUT", .bucket = bucket, .what = "make bucket " + S3Uri(bucket, "")};
  std::string xml;
  http::RequestBody body;
  if (settings_.region != "us-east-1") {
    // S3: buckets outside us-east-1 name their region in the request body.
    xml =
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>" +
        settings_.region +
        "</LocationConstraint>"
        "</CreateBucketConfiguration>";
    body = http::RequestBody::FromBytes(xml);
    call.body = &body;
  }
  return Execute(call).status();
}

Status S3Client::DeleteBucket(std::string_view bucket) {
  Call call{.method = "DELETE", .bucket = bucket, .what = "remove bucket " + S3Uri(bucket, "")};
  return Execute(call).status();
}

Result<ListBucketsResult> S3Client::ListBuckets() {
  Call call{.method = "GET", .what = "list buckets"};
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse response, Execute(call));
  return ParseListBuckets(response.body);
}

Result<std::string> S3Client::CreateMultipartUpload(std::string_view bucket, std::string_view key,
                                                    const PutOptions& options) {
  Call call{.method = "POST",
            .bucket = bucket,
            .key = key,
            .query = {{"uploads", ""}},
            .what = "start multipart upload of " + S3Uri(bucket, key)};
  if (!options.content_type.empty())
    call.headers.emplace_back("Content-Type", options.content_type);
  for (const auto& [name, value] : options.metadata) {
    call.headers.emplace_back("x-amz-meta-" + name, value);
  }
  int attempts = 0;
  call.attempts = &attempts;
  const int64_t started = env_->NowUnixSeconds();
  Result<std::string> upload_id = [&]() -> Result<std::string> {
    CAIRN_ASSIGN_OR_RETURN(http::HttpResponse response, Execute(call));
    Result<InitiateMultipartUploadResult> result = ParseInitiateMultipartUpload(response.body);
    if (!result.ok()) return result.status().WithContext(call.what);
    return result->upload_id;
  }();
  // An attempt whose reply was lost (a reset, a timeout, a cut or garbled body, a 5xx after the
  // work was done) may have started an upload that nobody can name, which would hold its parts'
  // space forever: find such uploads of this key and abort them. A clean 4xx on the only attempt
  // started nothing.
  const int http_status = upload_id.ok() ? 0 : upload_id.status().detail().http_status;
  if (attempts > 1 || (!upload_id.ok() && (http_status == 0 || http_status >= 500))) {
    AbortStrayUploads(bucket, key, upload_id.ok() ? *upload_id : std::string_view(), started,
                      env_->NowUnixSeconds());
  }
  return upload_id;
}

void S3Client::AbortStrayUploads(std::string_view bucket, std::string_view key,
                                 std::string_view own_upload_id, int64_t started,
                                 int64_t finished) {
  std::vector<MultipartUploadSummary> same_key;
  std::string key_marker;
  std::string upload_id_marker;
  for (int page = 0; page < 10; ++page) {  // a bounded look: 10,000 uploads of one key prefix
    Result<ListMultipartUploadsPage> listed =
        ListMultipartUploads(bucket, key, key_marker, upload_id_marker);
    // A garbled reply is not retried by Execute; ask again a few times.
    for (int again = 0; again < 3 && !listed.ok(); ++again) {
      listed = ListMultipartUploads(bucket, key, key_marker, upload_id_marker);
    }
    if (!listed.ok()) return;  // nothing more can be done; the store's lifecycle rules remain
    for (MultipartUploadSummary& u : listed->uploads) {
      if (u.key == key) same_key.push_back(std::move(u));
    }
    if (!listed->is_truncated) break;
    key_marker = listed->next_key_marker;
    upload_id_marker = listed->next_upload_id_marker;
  }
  // Which uploads the lost attempts may have started: those initiated while this call ran. On
  // success, by the store's own clock, from this upload's start back by the call's duration;
  // otherwise by the local clock, which must then agree with the store's within the margin.
  constexpr int64_t kMarginSeconds = 2;
  int64_t from = started - kMarginSeconds;
  int64_t to = finished + kMarginSeconds;
  if (!own_upload_id.empty()) {
    auto own = std::find_if(same_key.begin(), same_key.end(),
                            [&](const auto& u) { return u.upload_id == own_upload_id; });
    if (own == same_key.end() || own->initiated.text.empty()) return;
    to = own->initiated.unix_seconds;
    from = to - (finished - started) - kMarginSeconds;
  }
  for (const MultipartUploadSummary& u : same_key) {
    if (u.upload_id == own_upload_id || u.initiated.text.empty()) continue;
    if (u.initiated.unix_seconds < from || u.initiated.unix_seconds > to) continue;
    AbortMultipartUpload(bucket, key, u.upload_id).IgnoreError();
  }
}

Result<std::string> S3Client::UploadPart(std::string_view bucket, std::string_view key,
                                         std::string_view upload_id, int part_number,
                                         const http::RequestBody& body,
                                         std::optional<Md5Digest> content_md5) {
  if (part_number < 1 || part_number > kMaxPartNumber) {
    return InvalidArgumentError("part number " + std::to_string(part_number) +
                                " is outside 1..10000");
  }
  Call call{.method = "PUT",
            .bucket = bucket,
            .key = key,
            .body = &body,
            .what = "upload part " + std::to_string(part_number) + " of " + S3Uri(bucket, key)};
  call.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", std::string(upload_id)}};
  if (content_md5) call.headers.emplace_back("Content-MD5", ContentMd5(*content_md5));
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse response, Execute(call));
  std::string etag;
  if (auto v = response.headers.Get("ETag")) etag = std::string(Unquote(*v));
  if (etag.empty()) return DataLossError(call.what + ": the reply has no ETag");
  if (content_md5 && etag != HexEncode(*content_md5)) {
    return DataLossError(call.what + ": the server's ETag " + etag +
                         " is not the MD5 of the part sent (" + HexEncode(*content_md5) + ")");
  }
  return etag;
}

Result<CopyResult> S3Client::UploadPartCopy(std::string_view bucket, std::string_view key,
                                            std::string_view upload_id, int part_number,
                                            std::string_view source_bucket,
                                            std::string_view source_key,
                                            std::optional<ByteRange> source_range) {
  Call call{.method = "PUT",
            .bucket = bucket,
            .key = key,
            .what = "copy part " + std::to_string(part_number) + " of " + S3Uri(bucket, key)};
  call.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", std::string(upload_id)}};
  std::string source = "/" + std::string(source_bucket) + "/";
  AppendUriEncoded(source_key, Slash::kKeep, &source);
  call.headers.emplace_back("x-amz-copy-source", source);
  if (source_range) {
    call.headers.emplace_back("x-amz-copy-source-range",
                              "bytes=" + std::to_string(source_range->offset) + "-" +
                                  std::to_string(source_range->offset + source_range->length - 1));
  }
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse response, Execute(call));
  Result<CopyResult> result = ParseCopyPartResult(response.body);
  if (!result.ok()) return result.status().WithContext(call.what);
  return result;
}

Result<CompleteMultipartUploadResult> S3Client::CompleteMultipartUpload(
    std::string_view bucket, std::string_view key, std::string_view upload_id,
    std::span<const CompletedPart> parts) {
  CAIRN_ASSIGN_OR_RETURN(std::string xml, BuildCompleteMultipartUpload(parts));
  http::RequestBody body = http::RequestBody::FromBytes(xml);
  Call call{.method = "POST",
            .bucket = bucket,
            .key = key,
            .query = {{"uploadId", std::string(upload_id)}},
            .body = &body,
            .what = "complete multipart upload of " + S3Uri(bucket, key)};
  call.headers.emplace_back("Content-Type", "application/xml");
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse response, Execute(call));
  // A 200 may still carry an <Error>: S3 answers 200 first and fails later.
  Result<CompleteMultipartUploadResult> result = ParseCompleteMultipartUpload(response.body);
  if (!result.ok()) return result.status().WithContext(call.what);
  if (result->etag.empty()) {
    // Ceph RGW 16 answers <ETag></ETag>; the object's HEAD has the real one.
    CAIRN_ASSIGN_OR_RETURN(ObjectInfo info, HeadObject(bucket, key));
    result->etag = info.etag;
  }
  return result;
}

Status S3Client::AbortMultipartUpload(std::string_view bucket, std::string_view key,
                                      std::string_view upload_id) {
  Call call{.method = "DELETE",
            .bucket = bucket,
            .key = key,
            .query = {{"uploadId", std::string(upload_id)}},
            .what = "abort multipart upload of " + S3Uri(bucket, key)};
  return Execute(call).status();
}

Result<ListPartsPage> S3Client::ListParts(std::string_view bucket, std::string_view key,
                                          std::string_view upload_id, int32_t part_number_marker) {
  Call call{.method = "GET",
            .bucket = bucket,
            .key = key,
            .query = {{"uploadId", std::string(upload_id)}},
            .what = "list parts of " + S3Uri(bucket, key)};
  if (part_number_marker > 0) {
    call.query.emplace_back("part-number-marker", std::to_string(part_number_marker));
  }
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse response, Execute(call));
  return ParseListParts(response.body);
}

Result<ListMultipartUploadsPage> S3Client::ListMultipartUploads(std::string_view bucket,
                                                                std::string_view prefix,
                                                                std::string_view key_marker,
                                                                std::string_view upload_id_marker) {
  Call call{.method = "GET",
            .bucket = bucket,
            .query = {{"uploads", ""}, {"encoding-type", "url"}},
            .what = "list multipart uploads in " + S3Uri(bucket, prefix)};
  if (!prefix.empty()) call.query.emplace_back("prefix", std::string(prefix));
  if (!key_marker.empty()) call.query.emplace_back("key-marker", std::string(key_marker));
  if (!upload_id_marker.empty()) {
    call.query.emplace_back("upload-id-marker", std::string(upload_id_marker));
  }
  CAIRN_ASSIGN_OR_RETURN(http::HttpResponse response, Execute(call));
  return ParseListMultipartUploads(response.body);
}

}  // namespace cairn::objstore::s3
