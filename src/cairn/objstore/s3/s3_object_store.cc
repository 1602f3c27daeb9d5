#include "cairn/objstore/s3/s3_object_store.h"

#include <algorithm>

namespace cairn::objstore::s3 {
namespace {

// S3: CopyObject copies up to 5 GiB; larger objects are copied in parts of this size by
// UploadPartCopy (5 TiB / 1 GiB = 5,120 parts, within S3's 10,000).
constexpr uint64_t kMaxCopyObjectBytes = 5ULL << 30;
constexpr uint64_t kCopyPartBytes = 1ULL << 30;

ObjectAttributes FromInfo(const ObjectInfo& info) {
  return ObjectAttributes{.size = info.size,
                          .etag = info.etag,
                          .version_id = info.version_id,
                          .last_modified = info.last_modified,
                          .content_type = info.content_type,
                          .metadata = info.metadata,
                          .composite = info.etag.find('-') != std::string::npos};
}

PutOptions ToPutOptions(const WriteOptions& options) {
  return PutOptions{.content_md5 = options.content_md5,
                    .content_type = options.content_type,
                    .metadata = options.metadata};
}

}  // namespace

std::string S3ObjectStore::Uri(std::string_view container, std::string_view key) const {
  return S3Uri(container, key);
}

Status S3ObjectStore::CreateContainer(std::string_view container) {
  Status status = client_->CreateBucket(container);
  // Already ours: as Swift's PUT of an existing container, not an error.
  if (status.detail().service_code == "BucketAlreadyOwnedByYou") return Status();
  return status;
}

Status S3ObjectStore::DeleteContainer(std::string_view container) {
  return client_->DeleteBucket(container);
}

Result<std::vector<std::string>> S3ObjectStore::ListContainers() {
  CAIRN_ASSIGN_OR_RETURN(ListBucketsResult result, client_->ListBuckets());
  std::vector<std::string> names;
  for (const BucketSummary& b : result.buckets) names.push_back(b.name);
  return names;
}

Result<ObjectAttributes> S3ObjectStore::Head(std::string_view container, std::string_view key) {
  CAIRN_ASSIGN_OR_RETURN(ObjectInfo info, client_->HeadObject(container, key));
  return FromInfo(info);
}

Result<ObjectAttributes> S3ObjectStore::Get(std::string_view container, std::string_view key,
                                            const ReadOptions& options,
                                            const http::BodySink& sink) {
  GetOptions get;
  if (options.range) get.range = ByteRange{options.range->offset, options.range->length};
  get.if_match = options.if_match;
  get.version_id = options.version_id;
  CAIRN_ASSIGN_OR_RETURN(ObjectInfo info, client_->GetObject(container, key, get, sink));
  return FromInfo(info);
}

Result<WriteResult> S3ObjectStore::Put(std::string_view container, std::string_view key,
                                       const http::RequestBody& body, const WriteOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(PutResult result,
                         client_->PutObject(container, key, body, ToPutOptions(options)));
  return WriteResult{.etag = result.etag, .version_id = result.version_id};
}

Status S3ObjectStore::Delete(std::string_view container, std::string_view key) {
  return client_->DeleteObject(container, key);
}

Result<std::vector<DeleteFailure>> S3ObjectStore::DeleteMany(std::string_view container,
                                                             std::span<const std::string> keys) {
  std::vector<DeleteFailure> failures;
  for (size_t i = 0; i < keys.size(); i += kMaxDeleteObjectsKeys) {
    std::vector<ObjectIdentifier> batch;
    for (size_t j = i; j < std::min(keys.size(), i + kMaxDeleteObjectsKeys); ++j) {
      batch.push_back({keys[j], ""});
    }
    CAIRN_ASSIGN_OR_RETURN(DeleteObjectsResult result, client_->DeleteObjects(container, batch));
    for (const DeleteObjectError& e : result.errors) {
      if (e.code == "NoSuchKey") continue;
      S3Error error;
      error.code = e.code;
      error.message = e.message;
      failures.push_back({e.key, S3ErrorToStatus(0, error, "delete " + S3Uri(container, e.key))});
    }
  }
  return failures;
}

Result<ListPage> S3ObjectStore::List(std::string_view container,
                                     const objstore::ListOptions& options) {
  s3::ListOptions list;  // S3Client's, not the interface's

  list.prefix = options.prefix;
  list.delimiter = options.delimiter;
  list.continuation_token = options.marker;
  list.max_keys = options.max_keys;
  CAIRN_ASSIGN_OR_RETURN(ListObjectsV2Page s3_page, client_->ListObjectsV2(container, list));
  ListPage page;
  for (ObjectSummary& o : s3_page.contents) {
    page.objects.push_back(ListedObject{.key = std::move(o.key),
                                        .size = static_cast<uint64_t>(o.size),
                                        .etag = std::move(o.etag),
                                        .last_modified = o.last_modified.unix_seconds});
  }
  page.common_prefixes = std::move(s3_page.common_prefixes);
  if (s3_page.is_truncated) page.next_marker = std::move(s3_page.next_continuation_token);
  return page;
}

Result<WriteResult> S3ObjectStore::Copy(std::string_view source_container,
                                        std::string_view source_key, std::string_view container,
                                        std::string_view key) {
  const std::string what =
      "copy " + S3Uri(source_container, source_key) + " to " + S3Uri(container, key);
  // One CopyObject first: no HEAD for the common case (a directory rename copies thousands of
  // small objects). S3 refuses a source above 5 GiB with 400 InvalidRequest; only then is the
  // size looked up and the object copied in parts.
  Result<CopyResult> direct = client_->CopyObject(source_container, source_key, container, key);
  if (direct.ok()) return WriteResult{.etag = direct->etag, .version_id = ""};
  if (direct.status().code() != StatusCode::kInvalidArgument) return direct.status();
  CAIRN_ASSIGN_OR_RETURN(ObjectInfo source, client_->HeadObject(source_container, source_key));
  if (source.size <= kMaxCopyObjectBytes) return direct.status();
  PutOptions options{.content_md5 = std::nullopt,
                     .content_type = source.content_type,
                     .metadata = source.metadata};
  CAIRN_ASSIGN_OR_RETURN(std::string upload_id,
                         client_->CreateMultipartUpload(container, key, options));
  std::vector<CompletedPart> parts;
  Status status;
  for (uint64_t offset = 0; offset < source.size && status.ok(); offset += kCopyPartBytes) {
    int number = static_cast<int>(parts.size()) + 1;
    Result<CopyResult> part =
        client_->UploadPartCopy(container, key, upload_id, number, source_container, source_key,
                                ByteRange{offset, std::min(kCopyPartBytes, source.size - offset)});
    status = part.status();
    if (part.ok()) parts.push_back({number, part->etag});
  }
  if (status.ok()) {
    Result<CompleteMultipartUploadResult> done =
        client_->CompleteMultipartUpload(container, key, upload_id, parts);
    if (done.ok()) return WriteResult{.etag = done->etag, .version_id = ""};
    status = done.status();
  }
  client_->AbortMultipartUpload(container, key, upload_id).IgnoreError();
  return status.WithContext(what);
}

Result<WriteResult> S3ObjectStore::Rename(std::string_view source_container,
                                          std::string_view source_key, std::string_view container,
                                          std::string_view key) {
  if (source_container == container && source_key == key) {
    return InvalidArgumentError("rename " + S3Uri(container, key) + ": same name");
  }
  CAIRN_ASSIGN_OR_RETURN(WriteResult result, Copy(source_container, source_key, container, key));
  CAIRN_RETURN_IF_ERROR(client_->DeleteObject(source_container, source_key));
  return result;
}

Result<std::string> S3ObjectStore::BeginUpload(std::string_view container, std::string_view key,
                                               const WriteOptions& options) {
  return client_->CreateMultipartUpload(container, key, ToPutOptions(options));
}

Result<UploadedPart> S3ObjectStore::PutPart(std::string_view container, std::string_view key,
                                            std::string_view upload_id, int part_number,
                                            const http::RequestBody& body,
                                            std::optional<Md5Digest> content_md5) {
  if (body.length() == http::RequestBody::kUnknownLength) {
    return InvalidArgumentError("upload part " + std::to_string(part_number) + " of " +
                                S3Uri(container, key) + ": S3 parts need a known length");
  }
  CAIRN_ASSIGN_OR_RETURN(std::string etag, client_->UploadPart(container, key, upload_id,
                                                               part_number, body, content_md5));
  return UploadedPart{
      .part_number = part_number, .etag = etag, .size = static_cast<uint64_t>(body.length())};
}

Result<WriteResult> S3ObjectStore::CompleteUpload(std::string_view container, std::string_view key,
                                                  std::string_view upload_id,
                                                  std::span<const UploadedPart> parts) {
  const std::string what = "complete upload of " + S3Uri(container, key);
  CAIRN_ASSIGN_OR_RETURN(std::vector<UploadedPart> sorted,
                         SortedParts(parts, kMaxPartNumber, what));
  std::vector<CompletedPart> completed;
  for (const UploadedPart& p : sorted) completed.push_back({p.part_number, p.etag});
  CAIRN_ASSIGN_OR_RETURN(CompleteMultipartUploadResult result,
                         client_->CompleteMultipartUpload(container, key, upload_id, completed));
  std::string expected = S3CompositeEtag(sorted);
  if (!expected.empty() && result.etag != expected) {
    return DataLossError(what + ": the object's ETag " + result.etag +
                         " is not the one its parts imply (" + expected + ")");
  }
  return WriteResult{.etag = result.etag, .version_id = ""};
}

Status S3ObjectStore::AbortUpload(std::string_view container, std::string_view key,
                                  std::string_view upload_id) {
  return client_->AbortMultipartUpload(container, key, upload_id);
}

}  // namespace cairn::objstore::s3
