// CollectionWriter: uploads local files and directories as one collection (what `cairn put`
// does), after arv-put (arvados-keep.md §11).
//
// Layout: the files, in collection path order, are cut into blocks of `block_size` (64 MiB): a
// file of at least half a block starts a block of its own (so the same big file makes the same
// blocks wherever it appears), smaller files are packed one after another into shared blocks.
// Blocks are read and uploaded `threads` at a time; at most threads + 2 blocks are in memory
// (uploading, queued, being read). The manifest is built with the signed locators the
// keepstores return, then saved in the catalog.
//
// Resume: with a cache path, every uploaded block is recorded there (JSON, written atomically at
// most once a second and when the upload stops) under a fingerprint of what it holds: for each
// piece, the local path, the file's size and mtime, and the range. A re-run of the same upload
// sends none of the recorded blocks whose files are unchanged and whose signatures are still
// valid for another hour; it re-reads nothing of them either. The cache is deleted once the
// collection is saved.
//
// Thread safety: a CollectionWriter is used from one thread; it runs its own upload threads
// internally and joins them before Write returns. Ownership: the KeepClient and Env are not
// owned and must outlive the writer.
#ifndef CAIRN_CLIENT_COLLECTION_WRITER_H_
#define CAIRN_CLIENT_COLLECTION_WRITER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/client/catalog_client.h"
#include "cairn/client/keep_client.h"
#include "cairn/common/result.h"
#include "cairn/io/env.h"
#include "cairn/manifest/locator.h"

namespace cairn::client {

struct WriteProgress {
  uint64_t bytes_total = 0;    // of all files
  uint64_t bytes_done = 0;     // uploaded, or found in the resume cache
  uint64_t bytes_resumed = 0;  // found in the resume cache (part of bytes_done)
};

struct CollectionWriterOptions {
  uint64_t block_size = manifest::kMaxBlockSize;
  int threads = 2;      // blocks uploading at once (arv-put: 2)
  int replication = 2;  // copies of each block
  // Where to record finished blocks for a later resume; empty: no resume.
  std::string resume_cache_path{};
  // Called (from upload threads, one call at a time) after each block.
  std::function<void(const WriteProgress&)> progress{};
};

struct WriteStats {
  int blocks_uploaded = 0;
  int blocks_resumed = 0;
  uint64_t files = 0;
};

class CollectionWriter {
 public:
  // REQUIRES: keep and env outlive the writer.
  CollectionWriter(KeepClient* keep, io::Env* env, CollectionWriterOptions options);

  CollectionWriter(const CollectionWriter&) = delete;
  CollectionWriter& operator=(const CollectionWriter&) = delete;

  // Adds the file or directory at `local_path`: a file becomes the file `collection_path`; a
  // directory's contents (recursively, symbolic links followed, sockets and devices skipped)
  // go under the directory `collection_path` ("" for the root). Names must not clash.
  Status Add(const std::string& local_path, const std::string& collection_path);

  // Total bytes of the files added so far.
  uint64_t bytes_total() const { return bytes_total_; }

  // Uploads every block (resuming when it can) and returns the manifest text, with signed
  // locators. The first failure stops the upload; finished blocks stay in the resume cache.
  Result<std::string> Write();

  // Write, then creates the collection in the catalog and deletes the resume cache.
  Result<Collection> Finish(CatalogClient* catalog, const std::string& name);

  const WriteStats& stats() const { return stats_; }

 private:
  struct File {
    std::string local_path;
    std::string path;  // in the collection
    uint64_t size = 0;
    int64_t mtime_ns = 0;
  };
  struct Piece {
    size_t file;
    uint64_t file_offset;
    uint64_t length;
  };
  struct BlockPlan {
    std::vector<Piece> pieces;
    uint64_t size = 0;
    std::string fingerprint;
  };

  Status AddDirectory(const std::string& local_path, const std::string& collection_path,
                      std::vector<std::pair<uint64_t, uint64_t>>* ancestors);
  std::vector<BlockPlan> Plan();
  Result<std::string> ReadBlock(const BlockPlan& block) const;
  void LoadResumeCache();
  // Writes the cache if `force` or a second has passed. REQUIRES: mu_ held.
  void SaveResumeCacheLocked(bool force);
  Result<std::string> BuildManifest(const std::vector<BlockPlan>& blocks,
                                    const std::vector<manifest::Locator>& locators) const;

  KeepClient* const keep_;
  io::Env* const env_;
  const CollectionWriterOptions options_;
  std::vector<File> files_;
  std::vector<std::string> empty_directories_;
  uint64_t bytes_total_ = 0;
  WriteStats stats_;

  std::mutex mu_;
  std::map<std::string, std::string> resume_;  // guarded by mu_: fingerprint -> signed locator
  int64_t resume_saved_at_ = 0;                // guarded by mu_
  bool resume_dirty_ = false;                  // guarded by mu_
  WriteProgress progress_;                     // guarded by mu_
};

// The resume cache file for an upload: `cache_dir`/<md5 of the API base URL, the absolute local
// paths in order, and the options that change the blocks>, as arv-put names its cache.
std::string ResumeCachePath(std::string_view cache_dir, std::string_view api_base_url,
                            const std::vector<std::string>& absolute_paths, uint64_t block_size,
                            int replication);

}  // namespace cairn::client

#endif  // CAIRN_CLIENT_COLLECTION_WRITER_H_
