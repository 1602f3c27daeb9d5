// ObjectLister: every object (and, with a delimiter, every common prefix) under a prefix, across
// all ListObjectsV2 pages, fetching page N+1 in the background while the caller consumes page N.
//
//   CAIRN_ASSIGN_OR_RETURN(auto lister, ObjectLister::Start(client, "bucket", {.prefix = "d/"}));
//   while (true) {
//     CAIRN_ASSIGN_OR_RETURN(std::optional<ObjectSummary> object, lister->Next());
//     if (!object) break;  // the end of the listing
//     ...
//   }
//
// Memory is bounded by two pages (at most 2 × max_keys entries): the page being consumed and the
// page being fetched (or fetched and waiting). The fetcher asks for page N+2 only once the
// consumer has moved on to page N+1, so a slow consumer holds the server back instead of
// buffering the bucket.
//
// Entries: Next() yields objects only (common prefixes are skipped); NextEntry() yields objects
// and common prefixes together, in S3's order (UTF-8 binary order of keys and prefixes), as
// `aws s3 ls` shows a "directory". Both read the same stream, so a caller uses one or the other.
//
// Errors: the first failed page (after the S3 client's own retries) is returned once, by the
// Next/NextEntry call that would have read past the last good page; every entry before it has
// been returned. After that, and after the end, Next and NextEntry return nullopt. A server that
// answers a truncated page with the continuation token it was sent (no progress: listing on would
// loop forever) fails with kInternal: retrying the call would not help, the server is wrong.
//
// Threads (STYLE.md §8): one std::thread per lister, started by Start, never detached, joined by
// the destructor. Destroying the lister stops it at once when no request is in flight; otherwise
// the destructor waits for that one request (with the client's retries of it) and sends no other.
//
// Thread safety: not thread-safe; one consumer thread calls Next/NextEntry/stats. The S3Client is
// not owned and must outlive the lister (it is called from the lister's thread).
#ifndef CAIRN_OBJSTORE_S3_LIST_ITERATOR_H_
#define CAIRN_OBJSTORE_S3_LIST_ITERATOR_H_

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "cairn/common/result.h"
#include "cairn/objstore/s3/client.h"
#include "cairn/objstore/s3/xml.h"

namespace cairn::objstore::s3 {

// One entry of a listing with a delimiter: an object, or a common prefix ("directory") that
// stands for every key under it.
struct ListEntry {
  enum class Kind { kObject, kCommonPrefix };
  Kind kind = Kind::kObject;
  ObjectSummary object;  // kind == kObject
  std::string prefix;    // kind == kCommonPrefix: the prefix, ending with the delimiter

  bool is_prefix() const { return kind == Kind::kCommonPrefix; }
  // The object's key or the common prefix.
  const std::string& name() const { return is_prefix() ? prefix : object.key; }
};

// Counters of one lister, for progress and tests.
struct ObjectListerStats {
  int64_t pages_fetched = 0;    // ListObjectsV2 replies received and accepted
  int64_t objects = 0;          // returned by Next/NextEntry
  int64_t common_prefixes = 0;  // returned by NextEntry or skipped by Next
};

class ObjectLister {
 public:
  // Starts listing s3://bucket/options.prefix: the first page is requested at once, in the
  // background. `options.continuation_token` (to resume a listing) and `start_after` are honoured.
  // `client` is not owned and must outlive the lister.
  // Errors: kInvalidArgument for a null client, an empty bucket or max_keys outside 1..1,000.
  static Result<std::unique_ptr<ObjectLister>> Start(S3Client* client, std::string bucket,
                                                     ListOptions options);

  // Stops the fetcher and joins it (see the class comment for how long that can take).
  ~ObjectLister();
  ObjectLister(const ObjectLister&) = delete;
  ObjectLister& operator=(const ObjectLister&) = delete;

  // The next object, in key order; nullopt at the end. Blocks while the page it needs is being
  // fetched. Skips common prefixes.
  Result<std::optional<ObjectSummary>> Next();

  // The next object or common prefix, in key order; nullopt at the end.
  Result<std::optional<ListEntry>> NextEntry();

  ObjectListerStats stats() const;

 private:
  // A fetched page, or the error that ends the listing.
  using PageResult = Result<ListObjectsV2Page>;

  ObjectLister(S3Client* client, std::string bucket, ListOptions options);
  void FetchLoop();
  // Makes the next page current, waiting for the fetcher. An error ends the listing.
  Status TakeNextPage();

  S3Client* const client_;
  const std::string bucket_;
  const ListOptions options_;

  // Consumer state (consumer thread only).
  std::optional<ListObjectsV2Page> current_;
  size_t next_object_ = 0;  // index into current_->contents
  size_t next_prefix_ = 0;  // index into current_->common_prefixes
  bool finished_ = false;   // the end or an error was returned
  int64_t objects_ = 0;
  int64_t common_prefixes_ = 0;

  // Shared between the consumer and the fetcher.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<PageResult> ready_;  // guarded by mu_: fetched, not yet taken by the consumer
  bool stop_ = false;                // guarded by mu_: the destructor asks the fetcher to stop
  int64_t pages_fetched_ = 0;        // guarded by mu_

  std::thread fetcher_;  // last: started once the members it uses exist
};

}  // namespace cairn::objstore::s3

#endif  // CAIRN_OBJSTORE_S3_LIST_ITERATOR_H_
