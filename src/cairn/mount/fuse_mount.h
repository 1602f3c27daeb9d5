// FuseMount: a CollectionTree served as a read-only FUSE 3 file system (libfuse3's path-based
// API on its multi-threaded loop).
//
// Files are 0444 and directories 0555, owned by the uid/gid given; sizes, mtimes (the
// collection's modified_at) and nlink come from the tree. Each open file gets its own
// HandleReader, locked per handle, so reads of different files (and their network fetches) run
// in parallel. A collection's directory carries the extended attributes `user.cairn.uuid` and
// `user.cairn.pdh`. The kernel caches attributes and entries for `ttl` and never caches a
// missing name (a collection created later is found at once through by_id/); file pages stay
// cached across opens while a file's size and mtime do not change (auto_cache).
//
//   auto mount = FuseMount::Mount("/mnt/keep", &tree, &blocks, {.uid = getuid(), ...});
//   CAIRN_RETURN_IF_ERROR(mount.status());
//   Status served = (*mount)->Run();  // until SIGINT/SIGTERM, Stop() or `fusermount3 -u`
//
// Thread safety: Mount and Run on one thread; Stop from any other thread. Ownership: the tree
// and the block source are not owned and must outlive the FuseMount.
#ifndef CAIRN_MOUNT_FUSE_MOUNT_H_
#define CAIRN_MOUNT_FUSE_MOUNT_H_

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "cairn/common/result.h"
#include "cairn/common/status.h"
#include "cairn/mount/sources.h"
#include "cairn/mount/tree.h"

struct fuse;

namespace cairn::mount {

class WriteLayer;

struct FuseMountOptions {
  uint32_t uid = 0;  // owner of every file and directory
  uint32_t gid = 0;
  // Kernel attribute and entry cache timeout.
  std::chrono::seconds ttl{60};
  // Cap of each open file's readahead window, in blocks (HandleReader).
  int max_readahead_blocks = 4;
  // Threads of the FUSE loop at most.
  int max_threads = 16;
  // Let other users see the mount (needs root or user_allow_other in /etc/fuse.conf).
  bool allow_other = false;
  // libfuse's request trace on stderr.
  bool debug = false;
  // Where errors of requests are reported (one line each); null: stderr.
  std::function<void(std::string_view)> log = nullptr;
  // Non-null: `--read-write` (files 0644, directories 0755; writes go through this layer, which
  // must outlive the mount). Null: read-only.
  WriteLayer* writes = nullptr;
};

class FuseMount {
 public:
  // Mounts at `mountpoint` (an existing directory). The mount is live when this returns; until
  // Run is called, requests to it wait.
  static Result<std::unique_ptr<FuseMount>> Mount(const std::string& mountpoint,
                                                  CollectionTree* tree, BlockSource* blocks,
                                                  FuseMountOptions options);
  // Unmounts if still mounted.
  ~FuseMount();

  FuseMount(const FuseMount&) = delete;
  FuseMount& operator=(const FuseMount&) = delete;

  // Serves requests until SIGINT, SIGTERM or SIGHUP (libfuse's handlers are installed and those
  // signals unblocked in this thread for the call; other threads should block them), Stop(), or
  // an unmount from outside; then unmounts. Returns once every request thread has ended.
  Status Run();
  // Makes Run return and waits until its loop has ended. REQUIRES: not called on Run's thread.
  void Stop();

  const std::string& mountpoint() const { return mountpoint_; }

  // Internal: the request handlers reach the mount through libfuse's private data.
  CollectionTree* tree() const { return tree_; }
  BlockSource* blocks() const { return blocks_; }
  const FuseMountOptions& options() const { return options_; }
  void Log(std::string_view line) const;
  // One open file's state; owned by the mount from Open to Release (or to the destructor, for
  // files still open when the mount went away).
  struct OpenFile;
  OpenFile* AddOpenFile(std::unique_ptr<OpenFile> file);
  void ReleaseOpenFile(OpenFile* file);

 private:
  FuseMount(std::string mountpoint, CollectionTree* tree, BlockSource* blocks,
            FuseMountOptions options);
  void Unmount();

  const std::string mountpoint_;
  CollectionTree* const tree_;
  BlockSource* const blocks_;
  const FuseMountOptions options_;
  struct fuse* fuse_ = nullptr;
  bool mounted_ = false;

  std::mutex run_mu_;
  bool running_ = false;         // guarded by run_mu_: Run's loop is on
  bool stop_requested_ = false;  // guarded by run_mu_
  pthread_t run_thread_{};       // guarded by run_mu_
  std::atomic<bool> loop_done_{false};

  std::mutex files_mu_;
  std::unordered_map<OpenFile*, std::unique_ptr<OpenFile>> open_files_;  // guarded by files_mu_
};

}  // namespace cairn::mount

#endif  // CAIRN_MOUNT_FUSE_MOUNT_H_
