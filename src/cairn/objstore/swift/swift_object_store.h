// SwiftObjectStore: the ObjectStore interface (objstore/object_store.h) on OpenStack Swift and on
// Ceph RGW's Swift API, over a SwiftClient.
//
// Mapping:
//   Head/Get/Put/Delete    HEAD/GET/PUT/DELETE of the object; Put sends ETag (the body's MD5),
//                          which Swift checks (422 → kDataLoss), and checks the reply's ETag
//   List                   GET container?format=json with prefix, delimiter, marker, limit
//   DeleteMany             POST ?bulk-delete in batches of /info's max_deletes_per_request when
//                          /info lists bulk_delete; else one DELETE per key
//   Copy                   PUT with X-Copy-From; a static large object (SLO) is copied segment by
//                          segment (server-side) under a manifest of its own
//   Rename                 plain objects: copy, delete. An SLO: its manifest alone is copied
//                          (?multipart-manifest=get) and the source manifest deleted without its
//                          segments, which the new name now owns; no data moves
//   Begin/PutPart/Complete static large objects: part N is the segment
//                          "<container>_segments/<key>/<upload id>/<N, 8 digits>"; Complete PUTs
//                          the manifest (?multipart-manifest=put) and checks the SLO ETag
//                          (MD5 of the segments' ETags); Abort deletes the upload's segments
//   Delete of an SLO       ?multipart-manifest=delete: the manifest and its segments
// Limits come from GET /info (max_file_size, slo.min_segment_size, slo.max_manifest_segments,
// bulk_delete.max_deletes_per_request); `limits_override` replaces the part sizes for tests
// (SLOs with small segments).
//
// Upload options (content type, metadata) given to BeginUpload are kept in memory until
// CompleteUpload writes the manifest: complete an upload with the store that began it.
//
// Thread safety: thread-safe. The SwiftClient is not owned and must outlive the store.
#ifndef CAIRN_OBJSTORE_SWIFT_SWIFT_OBJECT_STORE_H_
#define CAIRN_OBJSTORE_SWIFT_SWIFT_OBJECT_STORE_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/objstore/object_store.h"
#include "cairn/objstore/swift/client.h"

namespace cairn::objstore::swift {

struct SwiftObjectStoreOptions {
  // When set, replaces min_part_size (tests write SLOs of tiny segments).
  std::optional<uint64_t> min_part_size;
};

// A segment of a static large object, as ?multipart-manifest=get tells it.
struct SloSegment {
  std::string container;
  std::string object;
  std::string etag;
  uint64_t size = 0;
};

// The segments of a manifest as GET ?multipart-manifest=get returns it (JSON list of
// {"name": "/container/object", "hash", "bytes"}). kInvalidArgument otherwise.
Result<std::vector<SloSegment>> ParseSloManifest(std::string_view body);

// The manifest body of PUT ?multipart-manifest=put for these segments.
std::string BuildSloManifest(const std::vector<SloSegment>& segments);

class SwiftObjectStore final : public ObjectStore {
 public:
  explicit SwiftObjectStore(SwiftClient* client, SwiftObjectStoreOptions options = {});

  std::string Uri(std::string_view container, std::string_view key) const override;
  StoreLimits limits() const override;

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

  // "<container>_segments": where this store puts the segments of `container`'s large objects.
  static std::string SegmentContainer(std::string_view container);
  // "<key>/<upload id>/<part, 8 digits>".
  static std::string SegmentName(std::string_view key, std::string_view upload_id, int part);

 private:
  // Deletes objects one request each; missing ones are not failures.
  Result<std::vector<DeleteFailure>> DeleteEach(std::string_view container,
                                                std::span<const std::string> keys);
  Result<std::vector<DeleteFailure>> BulkDelete(std::string_view container,
                                                std::span<const std::string> keys);
  // The manifest of the SLO at container/key.
  Result<std::vector<SloSegment>> GetManifest(std::string_view container, std::string_view key);
  // PUT ?multipart-manifest=put; checks the SLO ETag.
  Result<WriteResult> PutManifest(std::string_view container, std::string_view key,
                                  const std::vector<SloSegment>& segments,
                                  const WriteOptions& options, std::string_view what);
  Result<WriteResult> CopyLargeObject(std::string_view source_container,
                                      std::string_view source_key, std::string_view container,
                                      std::string_view key, const ObjectAttributes& source);
  // Reads the source in chunks and writes them as a new large object (servers that neither show
  // manifests nor copy large objects into independent ones: Ceph RGW 16).
  Result<WriteResult> CopyThroughClient(std::string_view source_container,
                                        std::string_view source_key, std::string_view container,
                                        std::string_view key, const ObjectAttributes& source);
  // Every object named "<prefix>…" in `container` (all pages).
  Result<std::vector<std::string>> ListAll(std::string_view container, std::string_view prefix);

  SwiftClient* const client_;
  const SwiftObjectStoreOptions options_;
  std::mutex mu_;
  std::map<std::string, WriteOptions, std::less<>> upload_options_;  // guarded by mu_
  uint64_t upload_counter_ = 0;                                      // guarded by mu_
};

}  // namespace cairn::objstore::swift

#endif  // CAIRN_OBJSTORE_SWIFT_SWIFT_OBJECT_STORE_H_
