#include "cairn/client/collection_reader.h"

#include <algorithm>
#include <cstring>
#include <utility>

namespace cairn::client {

FileReader::FileReader(KeepClient* keep, const manifest::Manifest* manifest,
                       manifest::Manifest::NodeId file)
    : keep_(keep), manifest_(manifest) {
  for (const manifest::Extent& e : manifest->Extents(file)) {
    starts_.push_back(size_);
    extents_.push_back(e);
    size_ += e.length;
  }
}

size_t FileReader::ExtentAt(uint64_t offset) const {
  auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
  return static_cast<size_t>(it - starts_.begin()) - 1;
}

void FileReader::PrefetchAfter(size_t extent) {
  const uint32_t current = extents_[extent].block;
  int queued = 0;
  uint32_t last = current;
  for (size_t i = extent + 1; i < extents_.size() && queued < kReadaheadBlocks; ++i) {
    if (extents_[i].block == last) continue;
    last = extents_[i].block;
    keep_->Prefetch(manifest_->blocks()[last]);
    ++queued;
  }
}

Result<size_t> FileReader::ReadAt(uint64_t offset, std::span<char> out) {
  if (offset >= size_ || out.empty()) return size_t{0};
  const bool sequential = offset == last_end_;
  size_t done = 0;
  size_t extent = ExtentAt(offset);
  while (done < out.size() && extent < extents_.size()) {
    const manifest::Extent& e = extents_[extent];
    const uint64_t within = offset + done - starts_[extent];
    const uint64_t n = std::min<uint64_t>(e.length - within, out.size() - done);
    CAIRN_ASSIGN_OR_RETURN(Block block, keep_->Get(manifest_->blocks()[e.block]));
    std::memcpy(out.data() + done, block->data() + e.offset + within, n);
    done += n;
    if (sequential) PrefetchAfter(extent);
    if (within + n == e.length) ++extent;
  }
  last_end_ = offset + done;
  return done;
}

Result<size_t> FileReader::Read(std::span<char> out) {
  CAIRN_ASSIGN_OR_RETURN(size_t n, ReadAt(position_, out));
  position_ += n;
  return n;
}

Status FileReader::Seek(uint64_t offset) {
  if (offset > size_) {
    return OutOfRangeError("seek to " + std::to_string(offset) + " past the end of a " +
                           std::to_string(size_) + "-byte file");
  }
  position_ = offset;
  return Status();
}

Status FileReader::ReadAll(const std::function<Status(std::string_view)>& sink) {
  for (size_t i = 0; i < extents_.size(); ++i) {
    const manifest::Extent& e = extents_[i];
    PrefetchAfter(i);
    CAIRN_ASSIGN_OR_RETURN(Block block, keep_->Get(manifest_->blocks()[e.block]));
    CAIRN_RETURN_IF_ERROR(sink(std::string_view(*block).substr(e.offset, e.length)));
  }
  return Status();
}

Result<std::unique_ptr<CollectionReader>> CollectionReader::Open(CatalogClient* catalog,
                                                                 KeepClient* keep,
                                                                 std::string_view id) {
  CAIRN_ASSIGN_OR_RETURN(Collection collection, catalog->GetCollection(id));
  Result<manifest::Manifest> parsed = manifest::Manifest::Parse(collection.manifest_text);
  if (!parsed.ok()) return parsed.status().WithContext("collection " + std::string(id));
  return std::unique_ptr<CollectionReader>(
      new CollectionReader(keep, std::move(*parsed), std::move(collection)));
}

Result<std::unique_ptr<CollectionReader>> CollectionReader::FromManifest(
    KeepClient* keep, std::string_view manifest_text) {
  CAIRN_ASSIGN_OR_RETURN(manifest::Manifest parsed, manifest::Manifest::Parse(manifest_text));
  Collection collection;
  collection.manifest_text = std::string(manifest_text);
  return std::unique_ptr<CollectionReader>(
      new CollectionReader(keep, std::move(parsed), std::move(collection)));
}

Result<std::vector<CollectionEntry>> CollectionReader::List(std::string_view path,
                                                            bool recursive) const {
  while (path.ends_with('/')) path.remove_suffix(1);
  std::optional<manifest::Manifest::NodeId> node = manifest_.Find(path);
  if (!node) return NotFoundError("no file or directory \"" + std::string(path) + "\"");
  std::vector<CollectionEntry> entries;
  // Directory sizes are the sums of their files, computed after the walk.
  std::function<uint64_t(manifest::Manifest::NodeId, bool)> walk =
      [&](manifest::Manifest::NodeId dir, bool emit) -> uint64_t {
    uint64_t total = 0;
    for (manifest::Manifest::NodeId child : manifest_.Children(dir)) {
      if (manifest_.IsDirectory(child)) {
        size_t slot = entries.size();
        if (emit) entries.push_back({manifest_.Path(child), true, 0});
        uint64_t sub = walk(child, emit && recursive);
        if (emit) entries[slot].size = sub;
        total += sub;
      } else {
        uint64_t size = manifest_.FileSize(child);
        if (emit) entries.push_back({manifest_.Path(child), false, size});
        total += size;
      }
    }
    return total;
  };
  if (!manifest_.IsDirectory(*node)) {
    entries.push_back({manifest_.Path(*node), false, manifest_.FileSize(*node)});
  } else {
    walk(*node, true);
  }
  return entries;
}

Result<std::unique_ptr<FileReader>> CollectionReader::OpenFile(std::string_view path) const {
  std::optional<manifest::Manifest::NodeId> node = manifest_.Find(path);
  if (!node) return NotFoundError("no file \"" + std::string(path) + "\" in the collection");
  if (manifest_.IsDirectory(*node)) {
    return InvalidArgumentError("\"" + std::string(path) + "\" is a directory");
  }
  return std::make_unique<FileReader>(keep_, &manifest_, *node);
}

Status CheckRelativePath(std::string_view path) {
  if (path.empty()) return PermissionDeniedError("refusing an empty name");
  if (path.front() == '/') {
    return PermissionDeniedError("refusing absolute name \"" + std::string(path) + "\"");
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") {
      return PermissionDeniedError("refusing name \"" + std::string(path) +
                                   "\": it would leave the destination");
    }
    start = end + 1;
  }
  return Status();
}

}  // namespace cairn::client
