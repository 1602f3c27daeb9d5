// TransferEngine::Download: parallel ranged GETs pinned to one ETag, written at offsets (random
// access sinks) or through a reorder window (sequential sinks), verified against the ETag.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "cairn/objstore/transfer/part_hash.h"
#include "cairn/objstore/transfer/part_layout.h"
#include "cairn/objstore/transfer/transfer.h"

namespace cairn::objstore::transfer {

// One ranged GET: [offset, offset + length), which belongs to part `part` (0-based; -1 when no
// per-part check is made) and may be its last piece.
struct TransferEngine::Range {
  uint64_t offset = 0;
  uint64_t length = 0;
  int part = -1;
  bool last_of_part = false;
};

namespace {

// Re-reads what a random-access sink holds and hashes it part by part on `schedule`'s grid.
Result<std::string> RehashParts(ByteSink& sink, uint64_t size, const PartSchedule& schedule,
                                MemoryBudget& budget, const std::atomic<bool>* cancel) {
  const int parts = schedule.PartCount(size);
  std::vector<HashRange> ranges;
  for (int p = 1; p <= parts; ++p) {
    const uint64_t offset = schedule.PartOffset(p);
    ranges.push_back({offset, std::min(size, offset + schedule.PartSize(p)) - offset});
  }
  std::vector<Md5Digest> md5s(ranges.size());
  CAIRN_RETURN_IF_ERROR(HashRangesTogether(
      [&](uint64_t offset, std::span<char> out) { return sink.ReadAt(offset, out); }, sink.name(),
      ranges, md5s, budget, cancel));
  return MultipartEtag(md5s);
}

}  // namespace

Status TransferEngine::FetchRange(std::string_view bucket, std::string_view key,
                                  const std::string& etag, uint64_t offset, uint64_t length,
                                  const std::function<Status(std::string_view, uint64_t)>& piece,
                                  char* into) {
  uint64_t delivered = 0;
  const std::string uri = s3::S3Uri(bucket, key);
  return RunWithRetries(
      download_retry_, env_, &random_,
      [&]() -> Status {
        if (cancelled()) return CancelledError("cancelled");
        bool sink_failed = false;
        s3::GetOptions get;
        get.range = s3::ByteRange{offset + delivered, length - delivered};
        get.if_match = etag;
        std::span<char> receive_into;
        if (into != nullptr) receive_into = {into + delivered, length - delivered};
        Result<s3::ObjectInfo> got = client_->GetObject(
            bucket, key, get,
            [&](std::string_view p) -> Status {
              if (p.size() > length - delivered) {
                sink_failed = true;
                return DataLossError("the server sent more bytes than the range holds");
              }
              Status s = piece(p, offset + delivered);
              if (!s.ok()) {
                sink_failed = true;
                return s;
              }
              delivered += p.size();
              return Status();
            },
            receive_into);
        if (got.ok()) {
          if (delivered == length) return Status();
          return UnavailableError("the reply ended after " + std::to_string(delivered) + " of " +
                                  std::to_string(length) + " bytes");
        }
        const Status& s = got.status();
        if (sink_failed) return s;
        if (s.code() == StatusCode::kFailedPrecondition) {
          return Status(StatusCode::kFailedPrecondition,
                        uri + " changed while it was being read (its ETag is no longer " + etag +
                            "): " + std::string(s.message()),
                        s.detail());
        }
        // A reply cut short (reset mid-body, truncated): the next attempt resumes from what
        // arrived, so these are transient whatever code the client chose for them.
        if (s.code() == StatusCode::kAborted || s.code() == StatusCode::kDataLoss) {
          return Status(StatusCode::kUnavailable, s.message(), s.detail());
        }
        return s;
      },
      "get bytes " + std::to_string(offset) + "-" + std::to_string(offset + length - 1) + " of " +
          uri);
}

Result<DownloadResult> TransferEngine::Download(std::string_view bucket, std::string_view key,
                                                ByteSink& sink, const ProgressFunction& progress) {
  const std::string what = "download " + s3::S3Uri(bucket, key) + " to " + sink.name();
  auto fail = [&](const Status& s) {
    sink.Abandon();
    return s.WithContext(what);
  };
  Result<s3::ObjectInfo> head = client_->HeadObject(bucket, key);
  if (!head.ok()) return fail(head.status());
  const s3::ObjectInfo& info = *head;
  const uint64_t size = info.size;
  VerificationPlan plan = PlanVerification(info, options_.limits);
  // A foreign multipart object: ask the store for its first part's length, once per engine if it
  // turns out to ignore partNumber (one small request; the answer spares the rehash of guesses).
  if (plan.source == "guessed" && plan.part_count > 1 && !part_number_ignored_.load()) {
    s3::GetOptions first_part;
    first_part.if_match = info.etag;
    first_part.part_number = 1;
    Result<s3::ObjectInfo> part1 = client_->HeadObject(bucket, key, first_part);
    if (part1.ok() && part1->parts_count > 0) {
      PreferPartSize(&plan, *part1, size, options_.limits);
    } else if (part1.ok() || part1.status().detail().http_status == 400) {
      part_number_ignored_.store(true);
    }
  }
  DownloadResult result;
  result.bytes = size;
  result.etag = info.etag;
  if (Status s = sink.Prepare(size); !s.ok()) return fail(s);

  const bool per_part = plan.kind == VerificationPlan::Kind::kPartMd5s;
  const bool whole = plan.kind == VerificationPlan::Kind::kWholeMd5;
  // Random-access sinks take each range where it belongs, hashing it per part in the thread that
  // receives it; a whole-object MD5 or a sequential sink needs the bytes in order.
  const bool direct = sink.random_access() && !whole;
  // Parts that fit the budget well are received whole into memory and hashed as they arrive
  // (staged); larger ones are written as they arrive and read back to be hashed.
  uint64_t max_part = 0;
  if (per_part) {
    const PartSchedule& grid = plan.candidates.front();
    for (int p = 1; p <= plan.part_count; ++p) max_part = std::max(max_part, grid.PartSize(p));
  }
  const bool staged = direct && per_part && max_part > 0 && max_part <= budget_.limit() / 2;
  const uint64_t chunk = options_.part_size;
  std::vector<Range> ranges;
  auto add_chunks = [&](uint64_t offset, uint64_t length, int part, bool split) {
    while (length > 0) {
      uint64_t n = split ? std::min(chunk, length) : length;
      ranges.push_back({offset, n, part, n == length});
      offset += n;
      length -= n;
    }
  };
  if (per_part) {
    const PartSchedule& grid = plan.candidates.front();
    for (int p = 1; p <= plan.part_count; ++p) {
      uint64_t offset = grid.PartOffset(p);
      add_chunks(offset, std::min(grid.PartSize(p), size - offset), p - 1, !direct);
    }
  } else {
    add_chunks(0, size, -1, true);
  }
  std::vector<Md5Digest> part_md5s(per_part ? size_t(plan.part_count) : 0);
  PartHasher whole_hasher;
  std::atomic<uint64_t> done{0};
  auto advance = [&](uint64_t n) {
    uint64_t now = done.fetch_add(n) + n;
    if (progress) progress(now, size);
  };

  Status status;
  if (size == 0) {
    // No range of an empty object exists (S3 answers 416): one plain GET.
    s3::GetOptions get;
    get.if_match = info.etag;
    Result<s3::ObjectInfo> got = client_->GetObject(bucket, key, get, [](std::string_view p) {
      return p.empty() ? Status() : DataLossError("an empty object sent bytes");
    });
    status = got.status();
    if (per_part) part_md5s.assign(part_md5s.size(), HashPartBytes(""));
  } else if (staged) {
    // Each part is received whole into a budgeted buffer. Once a batch of parts has arrived,
    // the range that completes it hashes them side by side in SIMD lanes (parts arrive in bursts
    // of the server's chunks, so hashing them as they arrive would find few lanes ready) and
    // writes each with one call, past the page cache where the sink can. A range that finds no
    // memory free, while no flush under way will free some, flushes the parts waiting: downloads
    // sharing the budget never wait on each other's held buffers.
    struct Received {
      int part = 0;
      uint64_t offset = 0;
      PartBuffer buffer;
    };
    std::mutex received_mu;
    std::vector<Received> received;  // guarded by received_mu
    int flushing = 0;                // guarded by received_mu: flushes under way
    // A batch is what the budget holds beside the parts arriving (one per thread).
    const uint64_t room = budget_.limit() / max_part;
    const uint64_t arriving = uint64_t(options_.concurrency);
    const size_t batch = static_cast<size_t>(
        std::clamp<uint64_t>(room > arriving ? room - arriving : 1, 1, kPartsHashedTogether));
    // The parts waiting, when `all` or a batch is complete; with `unless_flushing` only when no
    // flush is under way.
    auto take = [&](bool all, bool unless_flushing) {
      std::vector<Received> out;
      std::lock_guard lock(received_mu);
      if (unless_flushing && flushing > 0) return out;
      if (all || received.size() >= batch) out.swap(received);
      if (!out.empty()) ++flushing;
      return out;
    };
    auto flush = [&](std::vector<Received> parts) -> Status {
      if (parts.empty()) return Status();
      std::vector<std::string_view> views;
      for (const Received& p : parts) views.push_back(p.buffer.view());
      std::vector<Md5Digest> md5s(views.size());
      HashPartsTogether(views, md5s);
      Status written;
      for (size_t i = 0; i < parts.size() && written.ok(); ++i) {
        part_md5s[size_t(parts[i].part)] = md5s[i];
        written = sink.WriteAt(parts[i].offset, views[i]);
        parts[i].buffer = PartBuffer();  // back to the budget at once: a waiting range goes on
      }
      parts.clear();  // the buffers go back to the budget before waiting ranges are told
      std::lock_guard lock(received_mu);
      --flushing;
      return written;
    };
    TaskGroup group(pool_.get());
    for (const Range& r : ranges) {
      if (cancelled()) {
        status = CancelledError("cancelled");
        break;
      }
      if (group.cancelled()) break;
      group.Add([&, r]() -> Status {
        std::optional<PartBuffer> buffer;
        while (!(buffer = budget_.TryAcquireFor(r.length, std::chrono::milliseconds(20)))) {
          if (cancelled()) return CancelledError("cancelled");
          if (group.cancelled()) return Status();  // the group holds the error
          CAIRN_RETURN_IF_ERROR(flush(take(true, true)));
        }
        char* const into = buffer->data();
        CAIRN_RETURN_IF_ERROR(FetchRange(
            bucket, key, info.etag, r.offset, r.length,
            [&](std::string_view piece, uint64_t at) {
              char* place = into + (at - r.offset);
              if (piece.data() != place) std::memcpy(place, piece.data(), piece.size());
              return Status();
            },
            into));
        buffer->set_size(r.length);
        {
          std::lock_guard lock(received_mu);
          received.push_back({r.part, r.offset, std::move(*buffer)});
        }
        advance(r.length);
        return flush(take(false, false));
      });
    }
    if (!status.ok()) group.Cancel();
    Status waited = group.Wait();
    if (status.ok()) status = waited;
    if (status.ok()) status = flush(take(true, false));
  } else if (direct) {
    // Ranges are written where they belong as they arrive. Their parts are hashed once written:
    // the range that completes a group of kPartsHashedTogether parts reads the group back from
    // the sink (the page cache) and hashes it in SIMD lanes; what is left, after the last range.
    const PartSchedule* grid = per_part ? &plan.candidates.front() : nullptr;
    std::mutex written_mu;
    std::vector<int> written;  // guarded by written_mu: parts complete and not yet hashed
    auto hash_parts = [&](const std::vector<int>& parts) -> Status {
      std::vector<HashRange> spans;
      for (int p : parts) {
        const uint64_t offset = grid->PartOffset(p + 1);
        spans.push_back({offset, std::min(size, offset + grid->PartSize(p + 1)) - offset});
      }
      std::vector<Md5Digest> md5s(parts.size());
      CAIRN_RETURN_IF_ERROR(HashRangesTogether(
          [&](uint64_t offset, std::span<char> out) { return sink.ReadAt(offset, out); },
          sink.name(), spans, md5s, budget_, options_.cancel));
      for (size_t i = 0; i < parts.size(); ++i) part_md5s[size_t(parts[i])] = md5s[i];
      return Status();
    };
    TaskGroup group(pool_.get());
    for (const Range& r : ranges) {
      if (cancelled()) {
        status = CancelledError("cancelled");
        break;
      }
      if (group.cancelled()) break;
      group.Add([&, r]() -> Status {
        CAIRN_RETURN_IF_ERROR(FetchRange(
            bucket, key, info.etag, r.offset, r.length,
            [&](std::string_view piece, uint64_t at) { return sink.WriteAt(at, piece); }));
        advance(r.length);
        if (r.part < 0 || !r.last_of_part) return Status();
        std::vector<int> batch;
        {
          std::lock_guard lock(written_mu);
          written.push_back(r.part);
          if (written.size() >= kPartsHashedTogether) batch.swap(written);
        }
        return batch.empty() ? Status() : hash_parts(batch);
      });
    }
    if (!status.ok()) group.Cancel();
    Status waited = group.Wait();
    if (status.ok()) status = waited;
    if (status.ok() && !written.empty()) status = hash_parts(written);
  } else {
    // Reorder window: ranges are fetched in parallel into budgeted buffers and consumed (hashed,
    // written) here in order.
    struct Slot {
      PartBuffer buffer;
      bool done = false;  // guarded by mu
      bool ok = false;    // guarded by mu
    };
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::unique_ptr<Slot>> slots(ranges.size());
    const size_t max_window = std::clamp<uint64_t>(budget_.limit() / std::max<uint64_t>(chunk, 1),
                                                   1, 2 * uint64_t(options_.concurrency));
    PartHasher part_hasher;
    size_t next_submit = 0;
    size_t next_consume = 0;
    TaskGroup group(pool_.get());
    while (status.ok() && next_consume < ranges.size()) {
      while (next_submit < ranges.size() && next_submit - next_consume < max_window) {
        const Range r = ranges[next_submit];
        std::optional<PartBuffer> buffer;
        if (next_submit == next_consume) {
          // Nothing of ours is waiting to be consumed: safe to wait for memory.
          Result<PartBuffer> acquired = budget_.Acquire(r.length, options_.cancel);
          if (!acquired.ok()) {
            status = acquired.status();
            break;
          }
          buffer = std::move(*acquired);
        } else {
          buffer = budget_.TryAcquire(r.length);
          if (!buffer) break;
        }
        slots[next_submit] = std::make_unique<Slot>();
        Slot* slot = slots[next_submit].get();
        slot->buffer = std::move(*buffer);
        group.Add([&, slot, r]() -> Status {
          Status s = FetchRange(
              bucket, key, info.etag, r.offset, r.length, [&](std::string_view piece, uint64_t at) {
                std::memcpy(slot->buffer.data() + (at - r.offset), piece.data(), piece.size());
                return Status();
              });
          slot->buffer.set_size(r.length);
          {
            std::lock_guard lock(mu);
            slot->done = true;
            slot->ok = s.ok();
          }
          cv.notify_all();
          return s;
        });
        ++next_submit;
      }
      if (!status.ok()) break;
      if (cancelled()) {
        status = CancelledError("cancelled");
        break;
      }
      Slot* head_slot = slots[next_consume].get();
      bool ok = false;
      {
        std::unique_lock lock(mu);
        while (!head_slot->done && !group.cancelled()) {
          cv.wait_for(lock, std::chrono::milliseconds(50));
        }
        ok = head_slot->done && head_slot->ok;
      }
      if (!ok) break;  // the group holds the error
      const Range& r = ranges[next_consume];
      std::string_view bytes = head_slot->buffer.view();
      if (whole) whole_hasher.Update(bytes);
      if (r.part >= 0) {
        part_hasher.Update(bytes);
        if (r.last_of_part) part_md5s[size_t(r.part)] = part_hasher.Finish();
      }
      status = sink.random_access() ? sink.WriteAt(r.offset, bytes) : sink.Append(bytes);
      slots[next_consume].reset();
      advance(r.length);
      ++next_consume;
    }
    if (!status.ok()) group.Cancel();
    Status waited = group.Wait();
    if (status.ok()) status = waited;
  }
  if (!status.ok()) return fail(status);
  result.ranges = static_cast<int>(ranges.size());

  // Verification.
  if (whole) {
    std::string got = HexEncode(whole_hasher.Finish());
    if (got != plan.expected_etag) {
      return fail(DataLossError("the bytes' MD5 " + got + " is not the object's ETag " +
                                plan.expected_etag));
    }
    result.verified = "md5";
  } else if (per_part) {
    std::string got = MultipartEtag(part_md5s);
    const PartSchedule* matched = got == plan.expected_etag ? &plan.candidates.front() : nullptr;
    const bool inferred = plan.source == "guessed" || plan.source == "part-number";
    if (matched == nullptr && inferred && sink.random_access()) {
      for (size_t i = 1; i < plan.candidates.size() && matched == nullptr; ++i) {
        Result<std::string> again =
            RehashParts(sink, size, plan.candidates[i], budget_, options_.cancel);
        if (!again.ok()) return fail(again.status());
        if (*again == plan.expected_etag) matched = &plan.candidates[i];
      }
    }
    if (matched != nullptr) {
      result.verified = "part-md5s";
      result.part_size = matched->first_part_size();
      result.part_size_source = plan.source;
    } else if (!inferred) {
      return fail(DataLossError("the MD5s of the " + std::to_string(plan.part_count) +
                                " parts make the ETag " + got + ", not the object's " +
                                plan.expected_etag + " (part size " +
                                std::to_string(plan.candidates.front().first_part_size()) +
                                " from " + plan.source + ")"));
    } else {
      result.unverified_reason = "none of the usual part sizes reproduces the ETag " +
                                 plan.expected_etag + " (" +
                                 std::to_string(plan.candidates.size()) + " tried)";
    }
  } else {
    result.unverified_reason = plan.reason;
  }
  if (Status s = sink.Commit(); !s.ok()) return fail(s);
  return result;
}

}  // namespace cairn::objstore::transfer
