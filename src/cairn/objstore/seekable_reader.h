// SeekableReader: a file-like reader of one object (open, seek, read, positioned and vectored
// reads) over any ObjectStore, with lazy seek and readahead policies after S3A's input stream and
// mountpoint-s3's prefetcher (reference notes: object-store-clients.md §3, tricks 8-12 and 14).
//
//   CAIRN_ASSIGN_OR_RETURN(auto reader, SeekableReader::Open(store, "bucket", "data.parquet"));
//   char footer[8];
//   CAIRN_ASSIGN_OR_RETURN(size_t n, reader->ReadAt(reader->size() - 8, footer));
//
// Requests. Open sends one HEAD (none when options.attributes is given) and no GET: seeks only
// move the position, and bytes are fetched when read. Each fetch is one ranged GET of a window of
// the object into a buffer that later reads (and forward or backward seeks inside it) are served
// from at no cost. A read larger than max_readahead is fetched straight into the caller's memory
// in one GET. So the reader holds at most max_readahead bytes, whatever the object's size.
//
// Policies (SeekableReaderOptions::policy) choose the size of a fetch at offset O for a read that
// still needs N bytes:
//   kSequential  always reads ahead: N + W bytes, where the readahead W starts at min_readahead
//                and doubles with each fetch of a sequential read up to max_readahead (a fetch is
//                at most max_readahead in all). For whole-file scans.
//   kRandom      fetches what was asked, rounded up to kMinRandomFetch (64 KiB, S3A's random-mode
//                readahead): max(N, 64 KiB), moved back to end at the object's end when it would
//                run past it (so the read of a Parquet footer after its 8-byte trailer is free).
//                For columnar formats and indexes.
//   kAdaptive    (the default) sequential reads as kSequential, other reads as kRandom; a random
//                read resets W to min_readahead, so the window grows again only while the reads
//                that follow stay sequential.
// A read is sequential when it starts where the previous read ended, or up to max_seek_skip bytes
// after it (a small forward skip keeps the window rather than resetting it); the first read is
// sequential when it starts at offset 0.
//
// Consistency: every GET is pinned to the ETag the reader opened with (If-Match), and the ETag,
// version and size a reply reports are checked. If the object changed since Open, reads fail with
// kFailedPrecondition ("read s3://b/k: the object changed since it was opened ...") and never
// return bytes of two versions. Without an ETag (a store that gives none) GETs are not pinned.
//
// Thread safety: not thread-safe; use one reader from one thread at a time (open one reader per
// thread for parallel reads). ReadVectored runs its requests on threads of its own and joins them
// before returning. Ownership: the store is not owned and must outlive the reader.
#ifndef CAIRN_OBJSTORE_SEEKABLE_READER_H_
#define CAIRN_OBJSTORE_SEEKABLE_READER_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "cairn/common/result.h"
#include "cairn/common/status.h"
#include "cairn/objstore/object_store.h"

namespace cairn::objstore {

enum class ReadPolicy { kSequential, kRandom, kAdaptive };

struct SeekableReaderOptions {
  ReadPolicy policy = ReadPolicy::kAdaptive;
  // Readahead of the first fetch of sequential reads (beyond what the read asked for).
  uint64_t min_readahead = 256 << 10;
  // Largest fetch into the buffer (and so the reader's memory); readahead doubles up to it only
  // while reads stay sequential. >= min_readahead, >= 1.
  uint64_t max_readahead = 8 << 20;
  // A read starting up to this far after the previous read's end still counts as sequential.
  uint64_t max_seek_skip = 1 << 20;
  // The object's size, ETag and version when already known (a listing, a cache): no HEAD at Open.
  std::optional<ObjectAttributes> attributes = std::nullopt;
};

class SeekableReader {
 public:
  // kRandom fetches at least this much (S3A: random-mode reads are rounded up to its 64 KiB
  // readahead), unless max_readahead is smaller.
  static constexpr uint64_t kMinRandomFetch = 64 << 10;
  // ReadVectored never merges ranges into a request larger than this (Arrow's ReadRangeCache
  // caps merged ranges at 64 MiB); a single range larger than it is still one request.
  static constexpr uint64_t kMaxMergedRequest = 64 << 20;

  // Lazy: HEADs the object (unless options.attributes) but sends no GET until bytes are read.
  // Errors: the HEAD's (kNotFound, ...); kInvalidArgument for bad options.
  static Result<std::unique_ptr<SeekableReader>> Open(ObjectStore* store, std::string container,
                                                      std::string key,
                                                      SeekableReaderOptions options = {});

  SeekableReader(const SeekableReader&) = delete;
  SeekableReader& operator=(const SeekableReader&) = delete;

  uint64_t size() const { return attributes_.size; }
  // As opened: every read is pinned to attributes().etag.
  const ObjectAttributes& attributes() const { return attributes_; }
  // "s3://bucket/key", for messages.
  const std::string& uri() const { return uri_; }

  // Reads from the position and advances it by what was read. Fills `out` unless the object ends
  // first; 0 at the end of the object (or for an empty `out`).
  Result<size_t> Read(std::span<char> out);
  // The same at `offset`, without moving the position (pread). 0 at or past the end.
  Result<size_t> ReadAt(uint64_t offset, std::span<char> out);
  // Moves the position; sends no request. kOutOfRange past the end (seeking to size() is fine).
  Status Seek(uint64_t offset);
  uint64_t position() const { return position_; }

  // Reads several ranges (any order, may overlap); nearby ones (gap <= max_merge_gap) are
  // coalesced into one request, and requests run on up to `parallelism` threads. Each out[i] gets
  // exactly ranges[i].length bytes. Ranges wholly in the reader's buffer cost no request. Does not
  // move the position or change the readahead. kInvalidArgument when out[i].size() differs from
  // ranges[i].length or the counts differ; kOutOfRange for a range past the end. On error the
  // contents of `out` are unspecified.
  Status ReadVectored(std::span<const ObjectRange> ranges, std::span<std::span<char>> out,
                      uint64_t max_merge_gap = 1 << 20, int parallelism = 4);

  struct Stats {
    uint64_t requests = 0;        // GETs sent
    uint64_t bytes_fetched = 0;   // bytes those GETs returned
    uint64_t bytes_returned = 0;  // bytes handed to callers
    uint64_t seeks_skipped = 0;   // reads away from the previous read's end served without a GET
  };
  Stats stats() const;

 private:
  SeekableReader(ObjectStore* store, std::string container, std::string key,
                 SeekableReaderOptions options, ObjectAttributes attributes);

  // Reads `out` at `offset` (both already within the object), through the buffer.
  Status ReadThrough(uint64_t offset, std::span<char> out);
  // Refills the buffer at `offset` for a read that still needs `need` bytes.
  Status Fill(uint64_t offset, uint64_t need, bool sequential);
  // One GET of `range`, pinned; every byte goes to `sink` (which must take exactly range.length).
  Status Fetch(const ObjectRange& range, const std::function<void(std::string_view)>& sink);
  // Checks the attributes of a GET's reply against those the reader opened with.
  Status CheckSame(const ObjectAttributes& got) const;

  ObjectStore* const store_;
  const std::string container_;
  const std::string key_;
  const std::string uri_;
  const SeekableReaderOptions options_;
  const ObjectAttributes attributes_;

  uint64_t position_ = 0;
  std::string buffer_;  // bytes [buffer_offset_, buffer_offset_ + buffer_.size())
  uint64_t buffer_offset_ = 0;
  uint64_t readahead_;     // of the next sequential fetch
  bool has_read_ = false;  // a read has happened (last_end_ is meaningful)
  uint64_t last_end_ = 0;  // where the previous read ended

  // Atomic because ReadVectored's threads count their requests too.
  std::atomic<uint64_t> requests_{0};
  std::atomic<uint64_t> bytes_fetched_{0};
  std::atomic<uint64_t> bytes_returned_{0};
  std::atomic<uint64_t> seeks_skipped_{0};
};

}  // namespace cairn::objstore

#endif  // CAIRN_OBJSTORE_SEEKABLE_READER_H_
