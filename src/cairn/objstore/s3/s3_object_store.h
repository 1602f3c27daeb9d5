// S3ObjectStore: the ObjectStore interface (objstore/object_store.h) over an S3Client.
//
// Mapping: containers are buckets; Head/Get/Put/Delete, DeleteObjects (batches of 1,000),
// ListObjectsV2 (the marker is the continuation token), CopyObject (UploadPartCopy in 5 GiB parts
// above 5 GiB), Rename = copy then delete, and large objects as multipart uploads. CompleteUpload
// checks the object's ETag against md5-of-part-md5s-N when every part's ETag is an MD5.
//
// Thread safety: thread-safe. The S3Client is not owned and must outlive the store.
#ifndef CAIRN_OBJSTORE_S3_S3_OBJECT_STORE_H_
#define CAIRN_OBJSTORE_S3_S3_OBJECT_STORE_H_

#include <string>
#include <string_view>
#include <vector>

#include "cairn/objstore/object_store.h"
#include "cairn/objstore/s3/client.h"

namespace cairn::objstore::s3 {

class S3ObjectStore final : public ObjectStore {
 public:
  explicit S3ObjectStore(S3Client* client) : client_(client) {}

  std::string Uri(std::string_view container, std::string_view key) const override;
  StoreLimits limits() const override { return StoreLimits{}; }

  Status CreateContainer(std::string_view container) override;
  Status DeleteContainer(std::string_view container) override;
  Result<std::vector<std::string>> ListContainers() override;

  Result<ObjectAttributes> Head(std::string_view container, std::string_view key) override;
  Result<ObjectAttributes> Get(std::string_view container, std::string_view key,
                               const ReadOptions& options, const http::BodySink& sink) override;
  Result<WriteResult> Put(std::string_view container, std::string_view key,
                          const http::RequestBody& body, const WriteOptions& options) override;
  Status Delete(std::string_view container, std::string_view key) override;
  Result<std::vector<DeleteFailure>> DeleteMany(std::string_view container,
                                                std::span<const std::string> keys) override;
  Result<ListPage> List(std::string_view container, const objstore::ListOptions& options) override;
  Result<WriteResult> Copy(std::string_view source_container, std::string_view source_key,
                           std::string_view container, std::string_view key) override;
  Result<WriteResult> Rename(std::string_view source_container, std::string_view source_key,
                             std::string_view container, std::string_view key) override;

  Result<std::string> BeginUpload(std::string_view container, std::string_view key,
                                  const WriteOptions& options) override;
  Result<UploadedPart> PutPart(std::string_view container, std::string_view key,
                               std::string_view upload_id, int part_number,
                               const http::RequestBody& body,
                               std::optional<Md5Digest> content_md5) override;
  Result<WriteResult> CompleteUpload(std::string_view container, std::string_view key,
                                     std::string_view upload_id,
                                     std::span<const UploadedPart> parts) override;
  Status AbortUpload(std::string_view container, std::string_view key,
                     std::string_view upload_id) override;

 private:
  S3Client* const client_;
};

}  // namespace cairn::objstore::s3

#endif  // CAIRN_OBJSTORE_S3_S3_OBJECT_STORE_H_
