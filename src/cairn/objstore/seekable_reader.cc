#include "cairn/objstore/seekable_reader.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <utility>
#include <vector>

#include "cairn/common/thread_pool.h"

namespace cairn::objstore {
namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;

// Ranges of one ReadVectored request: [offset, end) of the object and the ranges it serves.
struct MergedRequest {
  uint64_t offset = 0;
  uint64_t end = 0;
  std::vector<size_t> members;  // indexes into the caller's ranges, by offset
};

}  // namespace

SeekableReader::SeekableReader(ObjectStore* store, std::string container, std::string key,
                               SeekableReaderOptions options, ObjectAttributes attributes)
    : store_(store),
      container_(std::move(container)),
      key_(std::move(key)),
      uri_(store_->Uri(container_, key_)),
      options_(std::move(options)),
      attributes_(std::move(attributes)),
      readahead_(options_.min_readahead) {}

Result<std::unique_ptr<SeekableReader>> SeekableReader::Open(ObjectStore* store,
                                                             std::string container, std::string key,
                                                             SeekableReaderOptions options) {
  if (options.max_readahead == 0 || options.min_readahead > options.max_readahead) {
    return InvalidArgumentError("open " + store->Uri(container, key) +
                                ": readahead must be 1 <= min_readahead <= max_readahead");
  }
  ObjectAttributes attributes;
  if (options.attributes) {
    attributes = *options.attributes;
  } else {
    CAIRN_ASSIGN_OR_RETURN(attributes, store->Head(container, key));
  }
  return std::unique_ptr<SeekableReader>(new SeekableReader(
      store, std::move(container), std::move(key), std::move(options), std::move(attributes)));
}

Result<size_t> SeekableReader::Read(std::span<char> out) {
  CAIRN_ASSIGN_OR_RETURN(size_t n, ReadAt(position_, out));
  position_ += n;
  return n;
}

Result<size_t> SeekableReader::ReadAt(uint64_t offset, std::span<char> out) {
  if (offset >= size() || out.empty()) return size_t{0};
  const size_t n = static_cast<size_t>(std::min<uint64_t>(out.size(), size() - offset));
  CAIRN_RETURN_IF_ERROR(ReadThrough(offset, out.first(n)));
  return n;
}

Status SeekableReader::Seek(uint64_t offset) {
  if (offset > size()) {
    return OutOfRangeError("seek " + uri_ + ": offset " + std::to_string(offset) +
                           " is past the end (" + std::to_string(size()) + " bytes)");
  }
  position_ = offset;
  return Status();
}

Status SeekableReader::ReadThrough(uint64_t offset, std::span<char> out) {
  const uint64_t previous_end = has_read_ ? last_end_ : 0;
  const bool sequential =
      has_read_ ? offset >= last_end_ && offset - last_end_ <= options_.max_seek_skip : offset == 0;
  const uint64_t requests_before = requests_.load(kRelaxed);
  uint64_t at = offset;
  size_t done = 0;
  while (done < out.size()) {
    const uint64_t buffer_end = buffer_offset_ + buffer_.size();
    if (at >= buffer_offset_ && at < buffer_end) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(out.size() - done, buffer_end - at));
      std::memcpy(out.data() + done, buffer_.data() + (at - buffer_offset_), n);
      done += n;
      at += n;
      continue;
    }
    const uint64_t need = out.size() - done;
    if (need > options_.max_readahead) {
      // Too large to buffer: one GET straight into the caller's memory.
      if (!sequential) readahead_ = options_.min_readahead;
      size_t filled = done;
      CAIRN_RETURN_IF_ERROR(Fetch({.offset = at, .length = need}, [&](std::string_view piece) {
        std::memcpy(out.data() + filled, piece.data(), piece.size());
        filled += piece.size();
      }));
      done = out.size();
      break;
    }
    CAIRN_RETURN_IF_ERROR(Fill(at, need, sequential));
  }
  bytes_returned_.fetch_add(out.size(), kRelaxed);
  if (offset != previous_end && requests_.load(kRelaxed) == requests_before) {
    seeks_skipped_.fetch_add(1, kRelaxed);
  }
  has_read_ = true;
  last_end_ = offset + out.size();
  return Status();
}

Status SeekableReader::Fill(uint64_t offset, uint64_t need, bool sequential) {
  const bool read_ahead = options_.policy == ReadPolicy::kSequential ||
                          (options_.policy == ReadPolicy::kAdaptive && sequential);
  if (!sequential) readahead_ = options_.min_readahead;
  // The window [start, start + length) always covers [offset, offset + need): need is at most
  // max_readahead and at most size() - offset.
  uint64_t start = offset;
  uint64_t length;
  if (read_ahead) {
    length = std::min(need + readahead_, options_.max_readahead);
    if (sequential) readahead_ = std::min(readahead_ * 2, options_.max_readahead);
    length = std::min(length, size() - offset);
  } else {
    // A minimum-size window that would run past the end ends there instead, so the read before
    // a small tail read (a Parquet footer before its 8-byte trailer) is already buffered.
    length = std::min({std::max(need, kMinRandomFetch), options_.max_readahead, size()});
    start = std::min(offset, size() - length);
  }
  buffer_.clear();
  buffer_offset_ = start;
  buffer_.reserve(static_cast<size_t>(length));
  Status status = Fetch({.offset = start, .length = length},
                        [this](std::string_view piece) { buffer_.append(piece); });
  if (!status.ok()) buffer_.clear();  // never serve bytes of a failed (or changed) fetch
  return status;
}

Status SeekableReader::Fetch(const ObjectRange& range,
                             const std::function<void(std::string_view)>& sink) {
  const std::string what = "read " + uri_;
  uint64_t received = 0;
  requests_.fetch_add(1, kRelaxed);
  // Pinned by ETag rather than by version: a changed object must fail, not read an old version.
  ReadOptions read;
  read.range = range;
  read.if_match = attributes_.etag;
  Result<ObjectAttributes> got =
      store_->Get(container_, key_, read, [&](std::string_view piece) -> Status {
        if (piece.size() > range.length - received) {
          return DataLossError(what + ": the store sent more than the " +
                               std::to_string(range.length) + " bytes asked");
        }
        sink(piece);
        received += piece.size();
        return Status();
      });
  bytes_fetched_.fetch_add(received, kRelaxed);
  if (!got.ok()) {
    const Status& s = got.status();
    // A failed pin, or a range the opened object had but the current one lacks: it changed.
    if (s.code() == StatusCode::kFailedPrecondition || s.code() == StatusCode::kOutOfRange) {
      return Status(
          StatusCode::kFailedPrecondition,
          what + ": the object changed since it was opened (" + std::string(s.message()) + ")",
          s.detail());
    }
    return s;
  }
  CAIRN_RETURN_IF_ERROR(CheckSame(*got));
  if (received != range.length) {
    return UnavailableError(what + ": the reply ended after " + std::to_string(received) + " of " +
                            std::to_string(range.length) + " bytes at offset " +
                            std::to_string(range.offset));
  }
  return Status();
}

Status SeekableReader::CheckSame(const ObjectAttributes& got) const {
  std::string change;
  if (!attributes_.etag.empty() && !got.etag.empty() && got.etag != attributes_.etag) {
    change = "ETag " + got.etag + ", opened with " + attributes_.etag;
  } else if (!attributes_.version_id.empty() && !got.version_id.empty() &&
             got.version_id != attributes_.version_id) {
    change = "version " + got.version_id + ", opened with " + attributes_.version_id;
  } else if (got.size != 0 && got.size != attributes_.size) {
    change = std::to_string(got.size) + " bytes, opened with " + std::to_string(attributes_.size);
  }
  if (change.empty()) return Status();
  return FailedPreconditionError("read " + uri_ + ": the object changed since it was opened (" +
                                 change + ")");
}

Status SeekableReader::ReadVectored(std::span<const ObjectRange> ranges,
                                    std::span<std::span<char>> out, uint64_t max_merge_gap,
                                    int parallelism) {
  const std::string what = "read " + uri_;
  if (ranges.size() != out.size()) {
    return InvalidArgumentError(what + ": " + std::to_string(ranges.size()) + " ranges but " +
                                std::to_string(out.size()) + " buffers");
  }
  // Validate, and copy what the buffer already holds; the rest is sorted by offset.
  std::vector<size_t> pending;
  uint64_t returned = 0;
  for (size_t i = 0; i < ranges.size(); ++i) {
    const ObjectRange& r = ranges[i];
    if (out[i].size() != r.length) {
      return InvalidArgumentError(what + ": buffer " + std::to_string(i) + " holds " +
                                  std::to_string(out[i].size()) + " bytes for a range of " +
                                  std::to_string(r.length));
    }
    if (r.offset > size() || r.length > size() - r.offset) {
      return OutOfRangeError(what + ": range " + std::to_string(r.offset) + "+" +
                             std::to_string(r.length) + " runs past the end (" +
                             std::to_string(size()) + " bytes)");
    }
    if (r.length == 0) continue;
    returned += r.length;
    if (r.offset >= buffer_offset_ && r.offset + r.length <= buffer_offset_ + buffer_.size()) {
      std::memcpy(out[i].data(), buffer_.data() + (r.offset - buffer_offset_), r.length);
      continue;
    }
    pending.push_back(i);
  }
  std::sort(pending.begin(), pending.end(),
            [&](size_t a, size_t b) { return ranges[a].offset < ranges[b].offset; });

  // Coalesce: a range joins the request before it when the hole between them is small enough and
  // the merged request stays under kMaxMergedRequest.
  std::vector<MergedRequest> requests;
  for (size_t i : pending) {
    const ObjectRange& r = ranges[i];
    const uint64_t end = r.offset + r.length;
    if (!requests.empty()) {
      MergedRequest& last = requests.back();
      const uint64_t merged_end = std::max(last.end, end);
      if (r.offset <= last.end + max_merge_gap && merged_end - last.offset <= kMaxMergedRequest) {
        last.end = merged_end;
        last.members.push_back(i);
        continue;
      }
    }
    requests.push_back({.offset = r.offset, .end = end, .members = {i}});
  }

  // Scatter each request's bytes into the buffers of the ranges it covers, as they arrive.
  auto run = [&](const MergedRequest& request) -> Status {
    uint64_t at = request.offset;
    size_t first = 0;  // members before this one are complete
    return Fetch({.offset = request.offset, .length = request.end - request.offset},
                 [&](std::string_view piece) {
                   const uint64_t piece_end = at + piece.size();
                   for (size_t m = first; m < request.members.size(); ++m) {
                     const ObjectRange& r = ranges[request.members[m]];
                     if (r.offset >= piece_end) break;
                     const uint64_t from = std::max(at, r.offset);
                     const uint64_t to = std::min(piece_end, r.offset + r.length);
                     if (from < to) {
                       std::memcpy(out[request.members[m]].data() + (from - r.offset),
                                   piece.data() + (from - at), to - from);
                     }
                   }
                   while (first < request.members.size()) {
                     const ObjectRange& r = ranges[request.members[first]];
                     if (r.offset + r.length > piece_end) break;
                     ++first;
                   }
                   at = piece_end;
                 });
  };
  const int threads = static_cast<int>(
      std::min<size_t>(requests.size(), static_cast<size_t>(std::max(parallelism, 1))));
  if (threads <= 1) {
    for (const MergedRequest& request : requests) CAIRN_RETURN_IF_ERROR(run(request));
  } else {
    CAIRN_ASSIGN_OR_RETURN(
        std::unique_ptr<ThreadPool> pool,
        ThreadPool::Create({.num_threads = threads, .queue_capacity = requests.size()}));
    TaskGroup group(pool.get());
    for (const MergedRequest& request : requests) {
      group.Add([&run, &request] { return run(request); });
    }
    CAIRN_RETURN_IF_ERROR(group.Wait());
  }
  bytes_returned_.fetch_add(returned, kRelaxed);
  return Status();
}

SeekableReader::Stats SeekableReader::stats() const {
  return Stats{.requests = requests_.load(kRelaxed),
               .bytes_fetched = bytes_fetched_.load(kRelaxed),
               .bytes_returned = bytes_returned_.load(kRelaxed),
               .seeks_skipped = seeks_skipped_.load(kRelaxed)};
}

}  // namespace cairn::objstore
