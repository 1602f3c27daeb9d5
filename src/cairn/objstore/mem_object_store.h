// MemObjectStore: an ObjectStore in memory, for unit tests of the layers above and as the
// reference implementation of the conformance suite (object_store_conformance.h).
//
// It behaves as S3 does where the stores differ: ETags are MD5s, a large object's ETag is
// md5-of-part-md5s-N, every part but the last must be at least limits().min_part_size, listings
// are in byte order with opaque markers. Objects carry no versions.
//
// Thread safety: thread-safe (one mutex; bodies are read and sinks fed outside it).
#ifndef CAIRN_OBJSTORE_MEM_OBJECT_STORE_H_
#define CAIRN_OBJSTORE_MEM_OBJECT_STORE_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/io/env.h"
#include "cairn/objstore/object_store.h"

namespace cairn::objstore {

class MemObjectStore final : public ObjectStore {
 public:
  // `clock` gives last-modified times (Unix seconds); 0 when null.
  explicit MemObjectStore(StoreLimits limits = {}, io::Env* clock = nullptr);

  std::string Uri(std::string_view container, std::string_view key) const override;
  StoreLimits limits() const override { return limits_; }

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
  Result<ListPage> List(std::string_view container, const ListOptions& options) override;
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

  // Uploads begun and neither completed nor aborted, in every container (for leak checks).
  size_t open_uploads() const;

 private:
  struct Object {
    std::string data;
    ObjectAttributes attributes;
  };
  struct Upload {
    std::string container;
    std::string key;
    WriteOptions options;
    std::map<int, std::string> parts;  // number -> bytes
  };
  using Container = std::map<std::string, Object, std::less<>>;

  int64_t Now() const;

  const StoreLimits limits_;
  io::Env* const clock_;
  mutable std::mutex mu_;
  std::map<std::string, Container, std::less<>> containers_;  // guarded by mu_
  std::map<std::string, Upload, std::less<>> uploads_;        // guarded by mu_
  uint64_t next_upload_ = 1;                                  // guarded by mu_
};

// Reads a whole RequestBody into a string (bytes or a stream; a stream is read to its end).
Result<std::string> ReadWholeBody(const http::RequestBody& body);

}  // namespace cairn::objstore

#endif  // CAIRN_OBJSTORE_MEM_OBJECT_STORE_H_
