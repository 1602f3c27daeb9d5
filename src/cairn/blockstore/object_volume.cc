#include "cairn/blockstore/object_volume.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

#include "cairn/common/hash.h"

namespace cairn::blockstore {
namespace {

using manifest::BlockHash;
using objstore::ObjectAttributes;
using objstore::ObjectStore;

constexpr std::string_view kMarkerDir = "recent/";
constexpr int64_t kNanosPerSecond = 1'000'000'000;

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// True when `etag` is the block's MD5: the object holds the block's bytes (a single PUT).
bool EtagIs(std::string_view etag, const BlockHash& hash) { return LowerAscii(etag) == hash.hex(); }

// True when `etag` is a plain MD5 (a single-PUT object) other than the block's: the object's
// bytes are not the block's. Composite ETags ("…-N") and others say nothing and are let through
// (the keepstore still hashes what it reads).
bool EtagContradicts(std::string_view etag, const BlockHash& hash) {
  std::string lower = LowerAscii(etag);
  return lower.size() == 32 && IsLowerHex(lower) && lower != hash.hex();
}

// Buffers one block and sends it with one PUT on Commit (see the header).
class ObjectBlockWriter final : public BlockWriter {
 public:
  ObjectBlockWriter(ObjectStore* store, std::string container, std::string key,
                    std::string marker_key, BlockHash hash, bool exists, io::Env* env,
                    std::string what)
      : store_(store),
        container_(std::move(container)),
        key_(std::move(key)),
        marker_key_(std::move(marker_key)),
        hash_(hash),
        exists_(exists),
        env_(env),
        what_(std::move(what)) {}

  Status Append(std::string_view piece) override {
    if (!error_.ok()) return error_;
    size_ += piece.size();
    if (size_ > manifest::kMaxBlockSize) {
      error_ = OutOfRangeError(what_ + ": block is larger than 64 MiB");
      return error_;
    }
    md5_.Update(piece);
    if (!exists_) buffer_.append(piece);
    return Status::OK();
  }

  Result<BlockInfo> Commit() override {
    if (!error_.ok()) return error_;
    if (committed_) return FailedPreconditionError(what_ + ": already committed");
    committed_ = true;
    Md5Digest digest = md5_.Finish();
    BlockHash got = BlockHash::FromDigest(digest);
    if (got != hash_) {
      error_ = InvalidArgumentError("content hash " + std::string(got.hex()) +
                                    " does not match block " + std::string(hash_.hex()));
      return error_;
    }
    if (exists_) {
      // The right bytes are stored already: record the new write time in the empty marker.
      Result<objstore::WriteResult> touched =
          store_->Put(container_, marker_key_, http::RequestBody::FromBytes(""),
                      objstore::WriteOptions{.content_md5 = Md5Of(""),
                                             .content_type = "application/octet-stream",
                                             .metadata = {}});
      if (!touched.ok()) return touched.status().WithContext(what_ + ": refresh its time");
    } else {
      Result<objstore::WriteResult> put = store_->Put(
          container_, key_, http::RequestBody::FromBytes(buffer_),
          objstore::WriteOptions{
              .content_md5 = digest, .content_type = "application/octet-stream", .metadata = {}});
      if (!put.ok()) return put.status().WithContext(what_);
      if (EtagContradicts(put->etag, hash_)) {
        return DataLossError(what_ + ": the store's ETag " + put->etag + " is not the block's MD5");
      }
      std::string().swap(buffer_);
    }
    return BlockInfo{.size = size_, .mtime_nanos = env_->NowUnixSeconds() * kNanosPerSecond};
  }

 private:
  ObjectStore* const store_;
  const std::string container_;
  const std::string key_;
  const std::string marker_key_;
  const BlockHash hash_;
  const bool exists_;
  io::Env* const env_;
  const std::string what_;
  std::string buffer_;
  uint64_t size_ = 0;
  bool committed_ = false;
  Md5 md5_;
  Status error_;
};

// Ranged GETs of up to `chunk` bytes, each pinned to the ETag seen at Open.
class ObjectBlockReader final : public BlockReader {
 public:
  ObjectBlockReader(ObjectStore* store, std::string container, std::string key, std::string etag,
                    BlockInfo info, size_t chunk)
      : store_(store),
        container_(std::move(container)),
        key_(std::move(key)),
        etag_(std::move(etag)),
        info_(info),
        chunk_(std::max<size_t>(chunk, 1)) {}

  const BlockInfo& info() const override { return info_; }

  Result<size_t> ReadAt(uint64_t offset, std::span<char> out) override {
    if (offset >= info_.size || out.empty()) return size_t{0};
    if (offset < buffer_offset_ || offset >= buffer_offset_ + buffer_.size()) {
      CAIRN_RETURN_IF_ERROR(Fill(offset));
    }
    size_t start = static_cast<size_t>(offset - buffer_offset_);
    size_t n = std::min(out.size(), buffer_.size() - start);
    std::memcpy(out.data(), buffer_.data() + start, n);
    return n;
  }

 private:
  Status Fill(uint64_t offset) {
    const uint64_t length = std::min<uint64_t>(chunk_, info_.size - offset);
    buffer_.clear();
    buffer_offset_ = offset;
    buffer_.reserve(static_cast<size_t>(length));
    objstore::ReadOptions options{
        .range = objstore::ObjectRange{offset, length}, .if_match = etag_, .version_id = ""};
    Result<ObjectAttributes> got =
        store_->Get(container_, key_, options, [this, length](std::string_view piece) {
          if (buffer_.size() + piece.size() > length) {
            return DataLossError("the store sent more bytes than asked");
          }
          buffer_.append(piece);
          return Status::OK();
        });
    Status status = got.status();
    if (status.ok() && buffer_.size() != length) {
      status = DataLossError("the store sent " + std::to_string(buffer_.size()) + " of " +
                             std::to_string(length) + " bytes");
    }
    if (status.code() == StatusCode::kFailedPrecondition) {
      status = DataLossError("the object changed after it was opened (ETag " + etag_ +
                             " no longer matches)");
    }
    if (!status.ok()) {
      buffer_.clear();
      return status.WithContext("read " + store_->Uri(container_, key_) + " at " +
                                std::to_string(offset));
    }
    return Status::OK();
  }

  ObjectStore* const store_;
  const std::string container_;
  const std::string key_;
  const std::string etag_;
  const BlockInfo info_;
  const size_t chunk_;
  std::string buffer_;
  uint64_t buffer_offset_ = 0;
};

// Walks the block names under one listing prefix in key (= hash) order, a page at a time.
class HashLister {
 public:
  struct Entry {
    BlockHash hash;
    uint64_t size = 0;
    int64_t last_modified = 0;
  };

  // Keys are "<base><abc>/<hash>"; listing stops at the first key under `stop_at` (when set).
  HashLister(ObjectStore* store, std::string_view container, std::string list_prefix,
             size_t base_size, std::string stop_at, int page_keys)
      : store_(store),
        container_(container),
        list_prefix_(std::move(list_prefix)),
        base_size_(base_size),
        stop_at_(std::move(stop_at)),
        page_keys_(page_keys) {}

  // The next block, or nullopt at the end.
  Result<std::optional<Entry>> Next() {
    for (;;) {
      while (pos_ < page_.objects.size()) {
        const objstore::ListedObject& o = page_.objects[pos_++];
        if (!stop_at_.empty() && o.key.starts_with(stop_at_)) {
          done_ = true;
          page_ = {};
          pos_ = 0;
          return std::optional<Entry>();
        }
        std::string_view rest = std::string_view(o.key).substr(base_size_);
        // "<abc>/<32 hex>", the directory being the hash's first three digits.
        if (rest.size() != 36 || rest[3] != '/' || rest.substr(0, 3) != rest.substr(4, 3)) continue;
        Result<BlockHash> hash = BlockHash::Parse(rest.substr(4));
        if (!hash.ok()) continue;
        return std::optional<Entry>(
            Entry{.hash = *hash, .size = o.size, .last_modified = o.last_modified});
      }
      if (done_) return std::optional<Entry>();
      objstore::ListOptions options;
      options.prefix = list_prefix_;
      options.marker = page_.next_marker;
      options.max_keys = page_keys_;
      CAIRN_ASSIGN_OR_RETURN(page_, store_->List(container_, options));
      pos_ = 0;
      done_ = page_.next_marker.empty();
    }
  }

 private:
  ObjectStore* const store_;
  const std::string_view container_;
  const std::string list_prefix_;
  const size_t base_size_;
  const std::string stop_at_;
  const int page_keys_;
  objstore::ListPage page_;
  size_t pos_ = 0;
  bool done_ = false;
};

}  // namespace

ObjectVolume::ObjectVolume(ObjectVolumeOptions options)
    : options_(std::move(options)),
      store_(options_.store.get()),
      base_(options_.prefix.empty() ? "" : options_.prefix + "/") {}

Result<std::unique_ptr<ObjectVolume>> ObjectVolume::Open(ObjectVolumeOptions options) {
  if (options.store == nullptr) return InvalidArgumentError("object volume: no store");
  if (options.container.empty()) return InvalidArgumentError("object volume: no bucket");
  while (options.prefix.starts_with('/')) options.prefix.erase(0, 1);
  while (options.prefix.ends_with('/')) options.prefix.pop_back();
  if (options.env == nullptr) options.env = io::Env::Default();
  options.list_page_keys = std::clamp(options.list_page_keys, 1, 1000);
  auto volume = std::unique_ptr<ObjectVolume>(new ObjectVolume(std::move(options)));
  volume->uri_ = volume->store_->Uri(volume->options_.container, volume->options_.prefix);
  volume->uuid_ = volume->options_.uuid;
  if (volume->uuid_.empty()) {
    volume->uuid_ = "cairn-nyw5e-" + std::string(BlockHash::Of(volume->uri_).hex().substr(0, 15));
  }
  // One small listing: the credentials work and the container exists (made when writable).
  objstore::ListOptions probe;
  probe.prefix = volume->base_;
  probe.max_keys = 1;
  Result<objstore::ListPage> listed = volume->store_->List(volume->options_.container, probe);
  if (!listed.ok() && listed.status().code() == StatusCode::kNotFound &&
      !volume->options_.read_only) {
    CAIRN_RETURN_IF_ERROR(volume->store_->CreateContainer(volume->options_.container)
                              .WithContext("volume " + volume->uri_));
    listed = volume->store_->List(volume->options_.container, probe);
  }
  if (!listed.ok()) return listed.status().WithContext("volume " + volume->uri_);
  return volume;
}

std::string ObjectVolume::BlockKey(const BlockHash& hash) const {
  std::string key = base_;
  key.append(hash.hex().substr(0, 3)).append("/").append(hash.hex());
  return key;
}

std::string ObjectVolume::MarkerKey(const BlockHash& hash) const {
  std::string key = base_;
  key.append(kMarkerDir).append(hash.hex().substr(0, 3)).append("/").append(hash.hex());
  return key;
}

Result<BlockInfo> ObjectVolume::InfoFor(const BlockHash& hash, const ObjectAttributes& attributes) {
  int64_t seconds = attributes.last_modified;
  Result<ObjectAttributes> marker = store_->Head(options_.container, MarkerKey(hash));
  if (marker.ok()) {
    seconds = std::max(seconds, marker->last_modified);
  } else if (marker.status().code() != StatusCode::kNotFound) {
    return marker.status();
  }
  return BlockInfo{.size = attributes.size, .mtime_nanos = seconds * kNanosPerSecond};
}

Result<std::unique_ptr<BlockWriter>> ObjectVolume::NewWriter(const BlockHash& hash) {
  if (options_.read_only) return FailedPreconditionError("volume " + uri_ + " is read-only");
  std::string key = BlockKey(hash);
  Result<ObjectAttributes> head = store_->Head(options_.container, key);
  if (!head.ok() && head.status().code() != StatusCode::kNotFound) {
    return head.status().WithContext("store block " + std::string(hash.hex()) + " on volume " +
                                     uri_);
  }
  // An object holding other bytes (changed underneath) is overwritten by the good ones.
  const bool exists = head.ok() && EtagIs(head->etag, hash);
  return std::unique_ptr<BlockWriter>(std::make_unique<ObjectBlockWriter>(
      store_, options_.container, std::move(key), MarkerKey(hash), hash, exists, options_.env,
      "store block " + std::string(hash.hex()) + " on volume " + uri_));
}

Result<std::unique_ptr<BlockReader>> ObjectVolume::Open(const BlockHash& hash) {
  std::string key = BlockKey(hash);
  CAIRN_ASSIGN_OR_RETURN(ObjectAttributes attributes, store_->Head(options_.container, key));
  if (EtagContradicts(attributes.etag, hash)) {
    return DataLossError("block " + std::string(hash.hex()) + " on volume " + uri_ +
                         " was changed: its object's ETag is " + attributes.etag);
  }
  CAIRN_ASSIGN_OR_RETURN(BlockInfo info, InfoFor(hash, attributes));
  return std::unique_ptr<BlockReader>(
      std::make_unique<ObjectBlockReader>(store_, options_.container, std::move(key),
                                          attributes.etag, info, options_.read_chunk_bytes));
}

Result<BlockInfo> ObjectVolume::Stat(const BlockHash& hash) {
  CAIRN_ASSIGN_OR_RETURN(ObjectAttributes attributes,
                         store_->Head(options_.container, BlockKey(hash)));
  return InfoFor(hash, attributes);
}

Status ObjectVolume::Delete(const BlockHash& hash) {
  if (options_.read_only) return FailedPreconditionError("volume " + uri_ + " is read-only");
  std::string key = BlockKey(hash);
  // ObjectStore::Delete is OK for a missing object; the Volume contract wants kNotFound.
  CAIRN_RETURN_IF_ERROR(store_->Head(options_.container, key).status());
  CAIRN_RETURN_IF_ERROR(store_->Delete(options_.container, key));
  return store_->Delete(options_.container, MarkerKey(hash));
}

Status ObjectVolume::Index(std::string_view prefix,
                           const std::function<Status(const IndexEntry&)>& emit) {
  if (prefix.size() > 32 || !IsLowerHex(prefix)) {
    return InvalidArgumentError("index prefix must be lowercase hex");
  }
  // Blocks under "<base><abc>/<prefix…>", or "<base><prefix>" when it is shorter than a
  // directory; with no prefix the block listing stops where the markers ("recent/") begin.
  std::string suffix(prefix);
  if (prefix.size() >= 3) suffix = std::string(prefix.substr(0, 3)) + "/" + std::string(prefix);
  const std::string marker_base = base_ + std::string(kMarkerDir);
  HashLister blocks(store_, options_.container, base_ + suffix, base_.size(),
                    prefix.empty() ? marker_base : "", options_.list_page_keys);
  HashLister markers(store_, options_.container, marker_base + suffix, marker_base.size(), "",
                     options_.list_page_keys);
  CAIRN_ASSIGN_OR_RETURN(std::optional<HashLister::Entry> marker, markers.Next());
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(std::optional<HashLister::Entry> block, blocks.Next());
    if (!block) break;
    if (!block->hash.hex().starts_with(prefix)) continue;
    while (marker && marker->hash < block->hash) {
      CAIRN_ASSIGN_OR_RETURN(marker, markers.Next());
    }
    int64_t seconds = block->last_modified;
    if (marker && marker->hash == block->hash) {
      seconds = std::max(seconds, marker->last_modified);
    }
    CAIRN_RETURN_IF_ERROR(emit(IndexEntry{
        .hash = block->hash,
        .info = BlockInfo{.size = block->size, .mtime_nanos = seconds * kNanosPerSecond}}));
  }
  return Status::OK();
}

MountInfo ObjectVolume::Mount() {
  MountInfo info;
  info.uuid = uuid_;
  info.device_id = uri_;
  info.allow_write = !options_.read_only;
  info.allow_trash = !options_.read_only;
  info.bytes_free = kReportedFreeBytes;
  info.bytes_total = kReportedFreeBytes;
  return info;
}

}  // namespace cairn::blockstore
