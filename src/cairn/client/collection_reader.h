// CollectionReader: a collection's files, read with random access through a KeepClient.
// FileReader: one file of it (seek + read, or the whole file streamed), with readahead of the
// next blocks while a reader moves forward. DownloadTree: `cairn get` into a local directory.
//
// Thread safety: a CollectionReader is immutable after it opens and may be shared by threads;
// each FileReader is used by one thread at a time. Ownership: the KeepClient (and CatalogClient
// for Open) are not owned and must outlive the readers.
#ifndef CAIRN_CLIENT_COLLECTION_READER_H_
#define CAIRN_CLIENT_COLLECTION_READER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/client/catalog_client.h"
#include "cairn/client/keep_client.h"
#include "cairn/common/result.h"
#include "cairn/manifest/manifest.h"

namespace cairn::client {

struct CollectionEntry {
  std::string path;  // relative to the collection root
  bool is_directory = false;
  uint64_t size = 0;  // files; for directories the sum of the files below
};

class FileReader {
 public:
  // Blocks read ahead when reads move forward (Python SDK: 2).
  static constexpr int kReadaheadBlocks = 2;

  FileReader(KeepClient* keep, const manifest::Manifest* manifest, manifest::Manifest::NodeId file);

  uint64_t size() const { return size_; }
  uint64_t position() const { return position_; }

  // Reads up to out.size() bytes at `offset` (fewer only at the end of the file).
  Result<size_t> ReadAt(uint64_t offset, std::span<char> out);
  // Reads from the position and advances it.
  Result<size_t> Read(std::span<char> out);
  // kOutOfRange past the end.
  Status Seek(uint64_t offset);
  // Hands the whole file to `sink` in block-sized pieces, in order.
  Status ReadAll(const std::function<Status(std::string_view)>& sink);

 private:
  // Index of the extent holding byte `offset`. REQUIRES: offset < size_.
  size_t ExtentAt(uint64_t offset) const;
  void PrefetchAfter(size_t extent);

  KeepClient* const keep_;
  const manifest::Manifest* const manifest_;
  std::vector<manifest::Extent> extents_;
  std::vector<uint64_t> starts_;  // file offset of each extent
  uint64_t size_ = 0;
  uint64_t position_ = 0;
  uint64_t last_end_ = UINT64_MAX;  // where the previous read ended
};

class CollectionReader {
 public:
  // `id` is a collection uuid or portable data hash; its manifest comes with fresh signatures.
  static Result<std::unique_ptr<CollectionReader>> Open(CatalogClient* catalog, KeepClient* keep,
                                                        std::string_view id);
  static Result<std::unique_ptr<CollectionReader>> FromManifest(KeepClient* keep,
                                                                std::string_view manifest_text);

  const manifest::Manifest& manifest() const { return manifest_; }
  const Collection& collection() const { return collection_; }

  // The entries under the directory `path` ("" for the root), or the one file at `path`;
  // every level below with `recursive`. kNotFound when there is nothing at `path`.
  Result<std::vector<CollectionEntry>> List(std::string_view path, bool recursive) const;

  Result<std::unique_ptr<FileReader>> OpenFile(std::string_view path) const;

 private:
  CollectionReader(KeepClient* keep, manifest::Manifest manifest, Collection collection)
      : keep_(keep), manifest_(std::move(manifest)), collection_(std::move(collection)) {}

  KeepClient* const keep_;
  const manifest::Manifest manifest_;
  const Collection collection_;
};

struct DownloadStats {
  uint64_t files = 0;
  uint64_t bytes = 0;
};

// Writes the file or directory tree at `path` of the collection under the local `dest`:
//  - a directory (or the root) goes into the directory `dest`, created if missing;
//  - a file goes to `dest`/<its name> when `dest` is a directory, else to the file `dest`.
// Each file is written to a temporary name in its directory and renamed into place when whole.
// Names that would leave `dest` are refused (kPermissionDenied): ".." or "." components, absolute
// or empty components, and symbolic links on the way below `dest` (directories are opened with
// O_NOFOLLOW). `progress`, if set, is called with the bytes written so far.
Result<DownloadStats> DownloadTree(const CollectionReader& reader, std::string_view path,
                                   const std::string& dest,
                                   const std::function<void(uint64_t)>& progress = nullptr);

// kPermissionDenied unless `path` is a relative path of non-empty components, none "." or "..".
Status CheckRelativePath(std::string_view path);

}  // namespace cairn::client

#endif  // CAIRN_CLIENT_COLLECTION_READER_H_
