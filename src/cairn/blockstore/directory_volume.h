// DirectoryVolume: a Volume in a local directory, laid out as Arvados's unix volume:
//
//   <root>/<hash[0:3]>/<hash>                  a block (never partial)
//   <root>/<hash[0:3]>/tmp<hash>.<random>      a block being received (never indexed; removed
//                                              on error, and at Open after a crash)
//   <root>/cairn-volume-uuid                   the volume's uuid, made on first use
//   <root>/cairn-volume.lock                   flock held while a process uses the volume
//
// Writes: pieces are hashed as they arrive and written to the temporary file through a 1 MiB
// aligned buffer with O_DIRECT where the file system allows it (a 64 MiB block then costs ~31 ms
// of disk time here instead of ~205 ms through the page cache: machine-limits.md), then, only if
// the MD5 matches the name: fdatasync, rename into place, fsync of the directory.
//
// Thread safety: as Volume. Owns nothing it is given; `file_ops` and `env` must outlive it.
#ifndef CAIRN_BLOCKSTORE_DIRECTORY_VOLUME_H_
#define CAIRN_BLOCKSTORE_DIRECTORY_VOLUME_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cairn/blockstore/file_ops.h"
#include "cairn/blockstore/volume.h"
#include "cairn/common/result.h"
#include "cairn/io/env.h"

namespace cairn::blockstore {

struct DirectoryVolumeOptions {
  std::string root;
  // Empty: read from <root>/cairn-volume-uuid, or made and saved there on first use.
  std::string uuid{};
  bool read_only = false;
  // Write blocks with O_DIRECT when the file system supports it.
  bool direct_io = true;
  // Below this many free bytes the volume takes no new blocks (Arvados: 64 MiB, one block).
  uint64_t min_free_bytes = uint64_t{64} << 20;
  FileOps* file_ops = nullptr;  // nullptr: FileOps::Default()
  io::Env* env = nullptr;       // nullptr: io::Env::Default() (uuid file)
};

class DirectoryVolume final : public Volume {
 public:
  // Creates <root> if missing, locks it (kFailedPrecondition when another process uses it),
  // removes temporary files left by a crash and loads or makes the uuid.
  static Result<std::unique_ptr<DirectoryVolume>> Open(const DirectoryVolumeOptions& options);
  ~DirectoryVolume() override;

  const std::string& uuid() const override { return uuid_; }
  bool writable() const override { return !options_.read_only; }
  const std::string& root() const { return options_.root; }

  Result<std::unique_ptr<BlockWriter>> NewWriter(const manifest::BlockHash& hash) override;
  Result<std::unique_ptr<BlockReader>> Open(const manifest::BlockHash& hash) override;
  Result<BlockInfo> Stat(const manifest::BlockHash& hash) override;
  Status Delete(const manifest::BlockHash& hash) override;
  Status Index(std::string_view prefix,
               const std::function<Status(const IndexEntry&)>& emit) override;
  Result<uint64_t> FreeBytes() override;
  MountInfo Mount() override;

  // <root>/<hash[0:3]>/<hash>
  std::string BlockPath(const manifest::BlockHash& hash) const;

 private:
  DirectoryVolume(const DirectoryVolumeOptions& options, int lock_fd);
  Status RemoveTemporaryFiles();

  DirectoryVolumeOptions options_;
  FileOps* const ops_;
  std::string uuid_;
  int lock_fd_;
};

}  // namespace cairn::blockstore

#endif  // CAIRN_BLOCKSTORE_DIRECTORY_VOLUME_H_
