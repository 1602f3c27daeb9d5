// ObjectStore: the one interface over S3 and OpenStack Swift (DESIGN.md §5) that the layers above
// (transfer, the FileSystem facade, gateways, import by reference) are written against.
//
// Names: a store holds containers (S3 buckets, Swift containers) of objects named by keys (S3
// keys, Swift object names). Keys are arbitrary UTF-8 of 1..1,024 bytes; this layer encodes them.
//
// Operations map to one request each where the store allows it; what takes more (a Swift static
// large object, a bulk delete above the store's batch size) says so below. Large objects are
// written the same way on both stores: BeginUpload, PutPart for parts numbered from 1 (in any
// order, in parallel), then CompleteUpload with every part, or AbortUpload, which leaves nothing
// behind. On S3 that is a multipart upload; on Swift the parts are segments in
// "<container>_segments" and CompleteUpload writes a static-large-object (SLO) manifest.
//
// Errors (common/status.h; detail carries the HTTP status, the service's error code and the
// request or transaction id), by what the caller should do:
//   kNotFound            no such object or container (also a missing upload)
//   kFailedPrecondition  an If-Match pin failed: the object changed since it was pinned
//   kDataLoss            the store's ETag does not match the bytes sent or received
//   kUnavailable         transient (throttling, resets, timeouts) after this layer's own retries
//   kUnauthenticated, kPermissionDenied, kInvalidArgument, kOutOfRange (a range past the end),
//   kResourceExhausted (too large), kAborted (a racing change; redo the operation)
// Messages put the operation and the object's URI first: "get swift://c/k: Not Found (HTTP 404,
// transaction id tx...)".
//
// Thread safety: implementations are thread-safe; every method may be called concurrently.
// Callbacks (body sources, sinks) run on the calling thread during the call. Implementations do
// not own the HttpClient or Env they were given.
#ifndef CAIRN_OBJSTORE_OBJECT_STORE_H_
#define CAIRN_OBJSTORE_OBJECT_STORE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/common/hash.h"
#include "cairn/common/result.h"
#include "cairn/common/status.h"
#include "cairn/http/http_client.h"

namespace cairn::objstore {

// What HEAD (and GET) tell about an object.
struct ObjectAttributes {
  uint64_t size = 0;  // of the whole object
  // Without quotes. S3: the MD5 of a single-PUT object, md5-of-part-md5s-N of a multipart one.
  // Swift: the MD5 of a plain object; for an SLO, the MD5 of its segments' ETags concatenated.
  std::string etag;
  std::string version_id;     // "" when the store does not version the object
  int64_t last_modified = 0;  // Unix seconds; 0 if unknown
  std::string content_type;
  std::map<std::string, std::string> metadata;  // user metadata, names lowercase, no prefix
  // True for a large object assembled from parts (an S3 multipart object, a Swift SLO): its ETag
  // is not the MD5 of its bytes.
  bool composite = false;
};

// Bytes [offset, offset + length) of an object; length >= 1.
struct ObjectRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct ReadOptions {
  std::optional<ObjectRange> range;  // none: the whole object
  std::string if_match;  // an ETag (without quotes): kFailedPrecondition if the object changed
  // Reads this version of the object (S3 versionId); kNotFound when it is gone. Stores that do
  // not version objects (Swift, MemObjectStore) refuse a non-empty one with kInvalidArgument.
  std::string version_id;
};

struct WriteOptions {
  std::optional<Md5Digest> content_md5;  // of the body: sent, and the reply's ETag checked
  std::string content_type;
  std::map<std::string, std::string> metadata;  // user metadata (names lowercase ASCII)
};

struct WriteResult {
  std::string etag;  // without quotes
  std::string version_id;
};

struct ListOptions {
  std::string prefix;
  std::string delimiter;  // "" lists every key under the prefix; "/" one "directory" level
  // Where the previous page ended (ListPage::next_marker); "" for the first page. Opaque: an S3
  // continuation token or a Swift marker.
  std::string marker;
  int max_keys = 1000;  // 1..1,000 (S3's page limit; Swift allows 10,000, this layer asks 1,000)
};

struct ListedObject {
  std::string key;
  uint64_t size = 0;
  std::string etag;
  int64_t last_modified = 0;  // Unix seconds
};

// One page of a listing, in key order (UTF-8 binary order). With a delimiter, keys that share a
// prefix up to the delimiter appear once in common_prefixes ("dir/") instead of in objects.
struct ListPage {
  std::vector<ListedObject> objects;
  std::vector<std::string> common_prefixes;
  std::string next_marker;  // "" when this was the last page
};

// A key that a bulk delete did not remove (a missing key is not a failure).
struct DeleteFailure {
  std::string key;
  Status status;
};

// A part written by PutPart, to be handed back to CompleteUpload.
struct UploadedPart {
  int part_number = 0;  // 1-based
  std::string etag;     // without quotes
  uint64_t size = 0;
};

// What the store allows; discovered (Swift /info) or documented (S3) values.
struct StoreLimits {
  uint64_t max_single_put = 5ULL << 30;  // S3: 5 GiB; Swift: max_file_size (5 GiB + 2)
  uint64_t min_part_size = 5ULL << 20;   // S3: 5 MiB for every part but the last; Swift SLO: 1
  int max_parts = 10000;                 // S3: 10,000; Swift: slo.max_manifest_segments
  int max_delete_batch = 1000;           // S3 DeleteObjects: 1,000; Swift: bulk delete max
  bool bulk_delete = true;               // false: DeleteMany sends one DELETE per key
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;

  // "s3://container/key" or "swift://container/key", for messages (the key may be empty).
  virtual std::string Uri(std::string_view container, std::string_view key) const = 0;
  virtual StoreLimits limits() const = 0;

  // --- Containers
  virtual Status CreateContainer(std::string_view container) = 0;  // OK if it already exists
  // kFailedPrecondition when it is not empty, kNotFound when it does not exist.
  virtual Status DeleteContainer(std::string_view container) = 0;
  virtual Result<std::vector<std::string>> ListContainers() = 0;

  // --- Objects
  virtual Result<ObjectAttributes> Head(std::string_view container, std::string_view key) = 0;
  // Streams the object (or options.range of it) to `sink`; returns the object's attributes. Not
  // retried once bytes reached the sink. A range running past the end is cut at the end; one
  // starting at or past the end is kOutOfRange. A sink error aborts the transfer and is returned.
  virtual Result<ObjectAttributes> Get(std::string_view container, std::string_view key,
                                       const ReadOptions& options, const http::BodySink& sink) = 0;
  // One request, up to limits().max_single_put bytes. With options.content_md5 the store checks
  // the body and the reply's ETag is checked against it (kDataLoss).
  virtual Result<WriteResult> Put(std::string_view container, std::string_view key,
                                  const http::RequestBody& body,
                                  const WriteOptions& options = {}) = 0;
  // Removes the object (and a large object's parts); OK if it did not exist.
  virtual Status Delete(std::string_view container, std::string_view key) = 0;
  // Removes many objects of one container in batches of limits().max_delete_batch. Returns the
  // keys that could not be removed; a failed request is an error (the keys of its batch and the
  // later ones may or may not be gone).
  virtual Result<std::vector<DeleteFailure>> DeleteMany(std::string_view container,
                                                        std::span<const std::string> keys) = 0;
  virtual Result<ListPage> List(std::string_view container, const ListOptions& options) = 0;
  // Server-side copy into an independent object (a large object gets parts of its own).
  virtual Result<WriteResult> Copy(std::string_view source_container, std::string_view source_key,
                                   std::string_view container, std::string_view key) = 0;
  // Copy then delete the source. Swift moves a large object by copying its manifest only (its
  // segments change owner; no data moves). Not atomic: a failure after the copy leaves both.
  virtual Result<WriteResult> Rename(std::string_view source_container, std::string_view source_key,
                                     std::string_view container, std::string_view key) = 0;

  // --- Large objects
  // Starts an upload; returns its id (opaque).
  virtual Result<std::string> BeginUpload(std::string_view container, std::string_view key,
                                          const WriteOptions& options = {}) = 0;
  // Writes part `part_number` (1..limits().max_parts). Every part but the last must be at least
  // limits().min_part_size. With `content_md5` the store checks the body and the ETag is checked.
  virtual Result<UploadedPart> PutPart(std::string_view container, std::string_view key,
                                       std::string_view upload_id, int part_number,
                                       const http::RequestBody& body,
                                       std::optional<Md5Digest> content_md5) = 0;
  // Makes the object from `parts` (any order; sorted here). The resulting ETag is checked against
  // the one the parts' ETags imply (kDataLoss).
  virtual Result<WriteResult> CompleteUpload(std::string_view container, std::string_view key,
                                             std::string_view upload_id,
                                             std::span<const UploadedPart> parts) = 0;
  // Removes every part written so far.
  virtual Status AbortUpload(std::string_view container, std::string_view key,
                             std::string_view upload_id) = 0;
};

// The ETag of an object assembled from parts with these ETags, in part order:
//   S3:    hex(md5(md5(part 1) ‖ … ‖ md5(part N)))-N (binary digests), or "" when a part's ETag is
//          not a hex MD5;
//   Swift: hex(md5(etag 1 ‖ … ‖ etag N)) of the hex strings (SLO manifests).
std::string S3CompositeEtag(std::span<const UploadedPart> parts);
std::string SwiftSloEtag(std::span<const UploadedPart> parts);

// Checks `parts` for CompleteUpload: non-empty, numbers in 1..max_parts and unique; returns them
// sorted by number. kInvalidArgument otherwise, naming `what`.
Result<std::vector<UploadedPart>> SortedParts(std::span<const UploadedPart> parts, int max_parts,
                                              std::string_view what);

}  // namespace cairn::objstore

#endif  // CAIRN_OBJSTORE_OBJECT_STORE_H_
