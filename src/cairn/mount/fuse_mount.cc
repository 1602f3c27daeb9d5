#include "cairn/mount/fuse_mount.h"

// libfuse 3.12+: fuse_loop_cfg_* and the multi-threaded loop that takes them.
#define FUSE_USE_VERSION 312
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "cairn/mount/reader.h"
#include "cairn/mount/writable.h"

namespace cairn::mount {

// One open file: its reader, used by one request at a time; or, with --read-write, a handle of
// the write layer (a file open for writing, or one staged there).
struct FuseMount::OpenFile {
  std::mutex mu;
  std::optional<HandleReader> reader;
  WriteLayer::Handle* write = nullptr;
};

namespace {

using OpenFile = FuseMount::OpenFile;

constexpr char kUuidXattr[] = "user.cairn.uuid";
constexpr char kPdhXattr[] = "user.cairn.pdh";
// On the mount's root: what the block source fetched so far (BlockSource::StatsJson).
constexpr char kStatsXattr[] = "user.cairn.stats";

FuseMount* Self() { return static_cast<FuseMount*>(fuse_get_context()->private_data); }

// The errno a request fails with for `status`.
int ToErrno(const Status& status) {
  switch (status.code()) {
    case StatusCode::kNotFound:
      return ENOENT;
    case StatusCode::kPermissionDenied:
    case StatusCode::kUnauthenticated:
      return EACCES;
    case StatusCode::kFailedPrecondition:
      return ENOTDIR;
    case StatusCode::kInvalidArgument:
      return EINVAL;
    case StatusCode::kResourceExhausted:
      return ENOMEM;
    default:
      return EIO;  // kUnavailable, kDataLoss (never wrong bytes), kInternal, ...
  }
}

// -errno for a failed request, logged unless it is a plain miss.
int Fail(const char* op, const char* path, const Status& status) {
  const int err = ToErrno(status);
  if (err != ENOENT) {
    Self()->Log(std::string(op) + " " + path + ": " + std::string(status.message()));
  }
  return -err;
}

// The errno a write request fails with for `status`.
int WriteErrno(const Status& status) {
  switch (status.code()) {
    case StatusCode::kAlreadyExists:
      return EEXIST;
    case StatusCode::kResourceExhausted:
      return ENOSPC;
    case StatusCode::kFailedPrecondition:
      return ENOTEMPTY;
    case StatusCode::kAborted:
      return EBUSY;
    default:
      return ToErrno(status);
  }
}

// -errno for a failed write request, logged unless it is a plain miss or refusal.
int FailWrite(const char* op, const char* path, const Status& status) {
  const int err = WriteErrno(status);
  if (err == EIO || err == ENOSPC) {
    Self()->Log(std::string(op) + " " + path + ": " + std::string(status.message()));
  }
  return -err;
}

void FillStat(const FuseMount& m, const Attr& attr, struct stat* st) {
  std::memset(st, 0, sizeof(*st));
  const bool rw = m.options().writes != nullptr;
  st->st_mode = attr.is_directory ? (S_IFDIR | (rw ? 0755 : 0555)) : (S_IFREG | (rw ? 0644 : 0444));
  st->st_nlink = attr.nlink;
  st->st_uid = m.options().uid;
  st->st_gid = m.options().gid;
  st->st_size = static_cast<off_t>(attr.size);
  st->st_blocks = static_cast<blkcnt_t>((attr.size + 511) / 512);
  st->st_blksize = 128 * 1024;  // FUSE's largest read request by default
  st->st_mtim.tv_sec = attr.mtime;
  st->st_ctim.tv_sec = attr.mtime;
  st->st_atim.tv_sec = attr.mtime;
}

void* Init(struct fuse_conn_info* conn, struct fuse_config* cfg) {
  FuseMount* m = Self();
  // open(O_TRUNC) arrives as one open with O_TRUNC, not a truncate (which would save) first.
  if (m->options().writes != nullptr) conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
  const double ttl = static_cast<double>(m->options().ttl.count());
  cfg->entry_timeout = ttl;
  cfg->attr_timeout = ttl;
  cfg->negative_timeout = 0;  // a collection made later must be found at once
  cfg->auto_cache = 1;        // keep pages across opens while size and mtime hold
  cfg->use_ino = 0;
  return m;
}

int GetAttr(const char* path, struct stat* st, struct fuse_file_info* /*fi*/) {
  FuseMount* m = Self();
  if (m->options().writes != nullptr) {
    if (std::optional<Attr> staged = m->options().writes->StagedAttr(path)) {
      FillStat(*m, *staged, st);
      return 0;
    }
  }
  Result<Node> node = m->tree()->Resolve(path);
  if (!node.ok()) return Fail("stat", path, node.status());
  FillStat(*m, node->attr, st);
  return 0;
}

int ReadDir(const char* path, void* buf, fuse_fill_dir_t filler, off_t /*offset*/,
            struct fuse_file_info* /*fi*/, enum fuse_readdir_flags flags) {
  FuseMount* m = Self();
  auto entries = m->tree()->List(path);
  if (!entries.ok()) return Fail("readdir", path, entries.status());
  if (m->options().writes != nullptr) m->options().writes->AddStagedEntries(path, &*entries);
  const bool plus = (flags & FUSE_READDIR_PLUS) != 0;
  const auto fill = plus ? FUSE_FILL_DIR_PLUS : static_cast<fuse_fill_dir_flags>(0);
  struct stat st;
  std::memset(&st, 0, sizeof(st));
  st.st_mode = S_IFDIR;
  filler(buf, ".", &st, 0, static_cast<fuse_fill_dir_flags>(0));
  filler(buf, "..", &st, 0, static_cast<fuse_fill_dir_flags>(0));
  for (const auto& [name, attr] : *entries) {
    FillStat(*m, attr, &st);
    if (filler(buf, name.c_str(), &st, 0, fill) != 0) return -ENOMEM;
  }
  return 0;
}

int Open(const char* path, struct fuse_file_info* fi) {
  FuseMount* m = Self();
  WriteLayer* writes = m->options().writes;
  const bool for_writing = (fi->flags & O_ACCMODE) != O_RDONLY;
  if (for_writing && writes == nullptr) return -EROFS;
  if (writes != nullptr && (for_writing || writes->IsStaged(path))) {
    Result<WriteLayer::Handle*> handle = writes->Open(path, fi->flags);
    if (handle.ok()) {
      OpenFile* file = m->AddOpenFile(std::unique_ptr<OpenFile>(
          new OpenFile{.mu = {}, .reader = std::nullopt, .write = *handle}));
      fi->fh = reinterpret_cast<uint64_t>(file);
      return 0;
    }
    // A read-only open of a file saved meanwhile reads the saved file.
    if (for_writing || handle.status().code() != StatusCode::kFailedPrecondition) {
      return FailWrite("open", path, handle.status());
    }
  }
  Result<Node> node = m->tree()->Resolve(path);
  if (!node.ok()) return Fail("open", path, node.status());
  if (node->attr.is_directory) return -EISDIR;
  OpenFile* file = m->AddOpenFile(std::unique_ptr<OpenFile>(
      new OpenFile{.mu = {},
                   .reader = HandleReader(m->blocks(), node->collection, node->node,
                                          m->options().max_readahead_blocks),
                   .write = nullptr}));
  fi->fh = reinterpret_cast<uint64_t>(file);
  return 0;
}

int Read(const char* path, char* buf, size_t size, off_t offset, struct fuse_file_info* fi) {
  auto* file = reinterpret_cast<OpenFile*>(fi->fh);
  if (offset < 0) return -EINVAL;
  std::lock_guard lock(file->mu);
  Result<size_t> n =
      file->write != nullptr
          ? Self()->options().writes->Read(file->write, static_cast<uint64_t>(offset),
                                           std::span<char>(buf, size))
          : file->reader->ReadAt(static_cast<uint64_t>(offset), std::span<char>(buf, size));
  if (!n.ok()) return Fail("read", path != nullptr ? path : "?", n.status());
  return static_cast<int>(*n);
}

int Release(const char* /*path*/, struct fuse_file_info* fi) {
  auto* file = reinterpret_cast<OpenFile*>(fi->fh);
  if (file->write != nullptr) Self()->options().writes->Release(file->write);
  Self()->ReleaseOpenFile(file);
  return 0;
}

// --- The write path (--read-write; WriteLayer).

int Create(const char* path, mode_t /*mode*/, struct fuse_file_info* fi) {
  FuseMount* m = Self();
  if (m->options().writes == nullptr) return -EROFS;
  Result<WriteLayer::Handle*> handle = m->options().writes->Create(path);
  if (!handle.ok()) return FailWrite("create", path, handle.status());
  OpenFile* file = m->AddOpenFile(
      std::unique_ptr<OpenFile>(new OpenFile{.mu = {}, .reader = std::nullopt, .write = *handle}));
  fi->fh = reinterpret_cast<uint64_t>(file);
  return 0;
}

int Write(const char* path, const char* buf, size_t size, off_t offset, struct fuse_file_info* fi) {
  auto* file = reinterpret_cast<OpenFile*>(fi->fh);
  if (offset < 0) return -EINVAL;
  if (file->write == nullptr) return -EBADF;
  Result<size_t> n = Self()->options().writes->Write(file->write, static_cast<uint64_t>(offset),
                                                     std::span<const char>(buf, size));
  if (!n.ok()) return FailWrite("write", path != nullptr ? path : "?", n.status());
  return static_cast<int>(*n);
}

int Truncate(const char* path, off_t size, struct fuse_file_info* fi) {
  FuseMount* m = Self();
  if (m->options().writes == nullptr) return -EROFS;
  if (size < 0) return -EINVAL;
  auto* file = fi != nullptr ? reinterpret_cast<OpenFile*>(fi->fh) : nullptr;
  Status status = file != nullptr && file->write != nullptr
                      ? m->options().writes->Truncate(file->write, static_cast<uint64_t>(size))
                      : m->options().writes->Truncate(path, static_cast<uint64_t>(size));
  return status.ok() ? 0 : FailWrite("truncate", path != nullptr ? path : "?", status);
}

// close(2): the last writer's close saves the file (its error is close's).
int Flush(const char* path, struct fuse_file_info* fi) {
  auto* file = reinterpret_cast<OpenFile*>(fi->fh);
  if (file->write == nullptr) return 0;
  Status status = Self()->options().writes->Flush(file->write, /*force=*/false);
  return status.ok() ? 0 : FailWrite("close", path != nullptr ? path : "?", status);
}

int Fsync(const char* path, int /*datasync*/, struct fuse_file_info* fi) {
  auto* file = reinterpret_cast<OpenFile*>(fi->fh);
  if (file->write == nullptr) return 0;
  Status status = Self()->options().writes->Flush(file->write, /*force=*/true);
  return status.ok() ? 0 : FailWrite("fsync", path != nullptr ? path : "?", status);
}

int Unlink(const char* path) {
  WriteLayer* writes = Self()->options().writes;
  if (writes == nullptr) return -EROFS;
  Status status = writes->Unlink(path);
  return status.ok() ? 0 : FailWrite("unlink", path, status);
}

int Mkdir(const char* path, mode_t /*mode*/) {
  WriteLayer* writes = Self()->options().writes;
  if (writes == nullptr) return -EROFS;
  Status status = writes->Mkdir(path);
  return status.ok() ? 0 : FailWrite("mkdir", path, status);
}

int Rmdir(const char* path) {
  WriteLayer* writes = Self()->options().writes;
  if (writes == nullptr) return -EROFS;
  Status status = writes->Rmdir(path);
  return status.ok() ? 0 : FailWrite("rmdir", path, status);
}

int Rename(const char* from, const char* to, unsigned int flags) {
  FuseMount* m = Self();
  WriteLayer* writes = m->options().writes;
  if (writes == nullptr) return -EROFS;
  if ((flags & ~static_cast<unsigned>(RENAME_NOREPLACE)) != 0) return -EINVAL;
  if ((flags & RENAME_NOREPLACE) != 0 && m->tree()->Resolve(to).ok()) return -EEXIST;
  Status status = writes->Rename(from, to);
  return status.ok() ? 0 : FailWrite("rename", from, status);
}

// Times and modes are not kept (a file's mtime is its collection's); accepted so that touch,
// cp -p and editors work.
int Utimens(const char* /*path*/, const struct timespec /*tv*/[2], struct fuse_file_info* /*fi*/) {
  return Self()->options().writes == nullptr ? -EROFS : 0;
}
int Chmod(const char* /*path*/, mode_t /*mode*/, struct fuse_file_info* /*fi*/) {
  return Self()->options().writes == nullptr ? -EROFS : 0;
}

int GetXattr(const char* path, const char* name, char* value, size_t size) {
  FuseMount* m = Self();
  Result<Node> node = m->tree()->Resolve(path);
  if (!node.ok()) return Fail("getxattr", path, node.status());
  std::string text;
  if (node->is_collection_root && std::strcmp(name, kUuidXattr) == 0) {
    text = node->uuid;
  } else if (node->is_collection_root && std::strcmp(name, kPdhXattr) == 0) {
    text = node->pdh;
  } else if (std::strcmp(path, "/") == 0 && std::strcmp(name, kStatsXattr) == 0) {
    text = m->blocks()->StatsJson();
  } else {
    return -ENODATA;
  }
  if (size == 0) return static_cast<int>(text.size());
  if (size < text.size()) return -ERANGE;
  std::memcpy(value, text.data(), text.size());
  return static_cast<int>(text.size());
}

int ListXattr(const char* path, char* list, size_t size) {
  FuseMount* m = Self();
  Result<Node> node = m->tree()->Resolve(path);
  if (!node.ok()) return Fail("listxattr", path, node.status());
  if (!node->is_collection_root) return 0;
  // Names, each with its terminating NUL.
  std::string names = std::string(kUuidXattr) + '\0' + kPdhXattr + '\0';
  if (size == 0) return static_cast<int>(names.size());
  if (size < names.size()) return -ERANGE;
  std::memcpy(list, names.data(), names.size());
  return static_cast<int>(names.size());
}

int StatFs(const char* /*path*/, struct statvfs* st) {
  std::memset(st, 0, sizeof(*st));
  st->f_bsize = 128 * 1024;
  st->f_frsize = 128 * 1024;
  st->f_namemax = 255;  // names longer than this cannot be looked up by the kernel anyway
  st->f_flag = (Self()->options().writes == nullptr ? ST_RDONLY : 0) | ST_NOSUID;
  return 0;
}

struct fuse_operations Operations() {
  struct fuse_operations ops;
  std::memset(&ops, 0, sizeof(ops));
  ops.init = Init;
  ops.getattr = GetAttr;
  ops.readdir = ReadDir;
  ops.open = Open;
  ops.read = Read;
  ops.release = Release;
  ops.getxattr = GetXattr;
  ops.listxattr = ListXattr;
  ops.statfs = StatFs;
  ops.create = Create;
  ops.write = Write;
  ops.truncate = Truncate;
  ops.flush = Flush;
  ops.fsync = Fsync;
  ops.unlink = Unlink;
  ops.mkdir = Mkdir;
  ops.rmdir = Rmdir;
  ops.rename = Rename;
  ops.utimens = Utimens;
  ops.chmod = Chmod;
  return ops;
}

}  // namespace

FuseMount::FuseMount(std::string mountpoint, CollectionTree* tree, BlockSource* blocks,
                     FuseMountOptions options)
    : mountpoint_(std::move(mountpoint)),
      tree_(tree),
      blocks_(blocks),
      options_(std::move(options)) {}

FuseMount::OpenFile* FuseMount::AddOpenFile(std::unique_ptr<OpenFile> file) {
  OpenFile* raw = file.get();
  std::lock_guard lock(files_mu_);
  open_files_.emplace(raw, std::move(file));
  return raw;
}

void FuseMount::ReleaseOpenFile(OpenFile* file) {
  std::unique_ptr<OpenFile> owned;
  {
    std::lock_guard lock(files_mu_);
    auto it = open_files_.find(file);
    if (it == open_files_.end()) return;
    owned = std::move(it->second);
    open_files_.erase(it);
  }
  // Freed outside the lock: its collection may be the last reference to a large manifest.
}

void FuseMount::Log(std::string_view line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::fprintf(stderr, "cairn mount: %.*s\n", static_cast<int>(line.size()), line.data());
  }
}

Result<std::unique_ptr<FuseMount>> FuseMount::Mount(const std::string& mountpoint,
                                                    CollectionTree* tree, BlockSource* blocks,
                                                    FuseMountOptions options) {
  struct stat st;
  if (::stat(mountpoint.c_str(), &st) != 0) return ErrnoError("mount " + mountpoint, errno);
  if (!S_ISDIR(st.st_mode)) {
    return InvalidArgumentError("mount " + mountpoint + ": not a directory");
  }
  std::unique_ptr<FuseMount> m(new FuseMount(mountpoint, tree, blocks, std::move(options)));
  std::string mount_options = m->options_.writes != nullptr
                                  ? "default_permissions,fsname=cairn,subtype=cairn"
                                  : "ro,default_permissions,fsname=cairn,subtype=cairn";
  if (m->options_.allow_other) mount_options += ",allow_other";
  std::vector<std::string> words = {"cairn-mount", "-o", mount_options};
  if (m->options_.debug) words.push_back("-d");
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  struct fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  const struct fuse_operations ops = Operations();
  m->fuse_ = fuse_new(&args, &ops, sizeof(ops), m.get());
  fuse_opt_free_args(&args);
  if (m->fuse_ == nullptr) return InternalError("mount " + mountpoint + ": fuse_new failed");
  if (fuse_mount(m->fuse_, mountpoint.c_str()) != 0) {
    // libfuse has printed why (no /dev/fuse, not permitted, ...).
    return FailedPreconditionError("mount " + mountpoint + ": the FUSE mount failed");
  }
  m->mounted_ = true;
  return m;
}

void FuseMount::Unmount() {
  if (mounted_) {
    fuse_unmount(fuse_);
    mounted_ = false;
  }
}

FuseMount::~FuseMount() {
  Unmount();
  if (fuse_ != nullptr) fuse_destroy(fuse_);
}

Status FuseMount::Run() {
  struct fuse_session* se = fuse_get_session(fuse_);
  if (fuse_set_signal_handlers(se) != 0) {
    return InternalError("mount " + mountpoint_ + ": cannot install signal handlers");
  }
  sigset_t signals;
  sigset_t old_mask;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_UNBLOCK, &signals, &old_mask);
  bool stop;
  {
    std::lock_guard lock(run_mu_);
    stop = stop_requested_;
    running_ = !stop;
    run_thread_ = pthread_self();
  }
  int rc = 0;
  if (!stop) {
    struct fuse_loop_config* config = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(config, static_cast<unsigned>(options_.max_threads));
    fuse_loop_cfg_set_clone_fd(config, 0);
    rc = fuse_loop_mt(fuse_, config);
    fuse_loop_cfg_destroy(config);
  }
  {
    std::lock_guard lock(run_mu_);
    running_ = false;
  }
  loop_done_ = true;
  pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  fuse_remove_signal_handlers(se);
  Unmount();
  // rc: 0 after an unmount from outside, the signal number after a signal, -errno on failure.
  if (rc < 0) return ErrnoError("mount " + mountpoint_ + ": serving requests", -rc);
  return Status();
}

void FuseMount::Stop() {
  // The loop wakes when a signal interrupts its wait; a signal sent just before it waits again
  // is lost, so it is sent until the loop has ended (every 50 ms, 10 s at most).
  for (int attempt = 0; attempt < 200 && !loop_done_; ++attempt) {
    {
      std::lock_guard lock(run_mu_);
      stop_requested_ = true;
      if (!running_) return;  // Run not entered (it will return at once) or already over
      fuse_session_exit(fuse_get_session(fuse_));
      pthread_kill(run_thread_, SIGTERM);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace cairn::mount
