// ForwardingObjectStore: an ObjectStore that passes every call to another one, as the base of
// decorators that change a few calls (CachingObjectStore in metadata_cache.h; counting and
// fault-injecting doubles in tests) without restating the rest.
//
// Thread safety: as thread-safe as the store it wraps (every ObjectStore is). Ownership: the
// wrapped store is not owned and must outlive the decorator.
#ifndef CAIRN_OBJSTORE_FORWARDING_OBJECT_STORE_H_
#define CAIRN_OBJSTORE_FORWARDING_OBJECT_STORE_H_

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/objstore/object_store.h"

namespace cairn::objstore {

class ForwardingObjectStore : public ObjectStore {
 public:
  explicit ForwardingObjectStore(ObjectStore* base) : base_(base) {}

  std::string Uri(std::string_view container, std::string_view key) const override {
    return base_->Uri(container, key);
  }
  StoreLimits limits() const override { return base_->limits(); }

  Status CreateContainer(std::string_view container) override {
    return base_->CreateContainer(container);
  }
  Status DeleteContainer(std::string_view container) override {
    return base_->DeleteContainer(container);
  }
  Result<std::vector<std::string>> ListContainers() override { return base_->ListContainers(); }

  Result<ObjectAttributes> Head(std::string_view container, std::string_view key) override {
    return base_->Head(container, key);
  }
  Result<ObjectAttributes> Get(std::string_view container, std::string_view key,
                               const ReadOptions& options, const http::BodySink& sink) override {
    return base_->Get(container, key, options, sink);
  }
  Result<WriteResult> Put(std::string_view container, std::string_view key,
                          const http::RequestBody& body, const WriteOptions& options) override {
    return base_->Put(container, key, body, options);
  }
  Status Delete(std::string_view container, std::string_view key) override {
    return base_->Delete(container, key);
  }
  Result<std::vector<DeleteFailure>> DeleteMany(std::string_view container,
                                                std::span<const std::string> keys) override {
    return base_->DeleteMany(container, keys);
  }
  Result<ListPage> List(std::string_view container, const ListOptions& options) override {
    return base_->List(container, options);
  }
  Result<WriteResult> Copy(std::string_view source_container, std::string_view source_key,
                           std::string_view container, std::string_view key) override {
    return base_->Copy(source_container, source_key, container, key);
  }
  Result<WriteResult> Rename(std::string_view source_container, std::string_view source_key,
                             std::string_view container, std::string_view key) override {
    return base_->Rename(source_container, source_key, container, key);
  }

  Result<std::string> BeginUpload(std::string_view container, std::string_view key,
                                  const WriteOptions& options) override {
    return base_->BeginUpload(container, key, options);
  }
  Result<UploadedPart> PutPart(std::string_view container, std::string_view key,
                               std::string_view upload_id, int part_number,
                               const http::RequestBody& body,
                               std::optional<Md5Digest> content_md5) override {
    return base_->PutPart(container, key, upload_id, part_number, body, content_md5);
  }
  Result<WriteResult> CompleteUpload(std::string_view container, std::string_view key,
                                     std::string_view upload_id,
                                     std::span<const UploadedPart> parts) override {
    return base_->CompleteUpload(container, key, upload_id, parts);
  }
  Status AbortUpload(std::string_view container, std::string_view key,
                     std::string_view upload_id) override {
    return base_->AbortUpload(container, key, upload_id);
  }

 protected:
  ObjectStore* base() const { return base_; }

 private:
  ObjectStore* const base_;
};

}  // namespace cairn::objstore

#endif  // CAIRN_OBJSTORE_FORWARDING_OBJECT_STORE_H_
