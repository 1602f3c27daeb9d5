#include "cairn/mount/writable.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include "cairn/mount/reader.h"

namespace cairn::mount {

using manifest::Manifest;

struct WriteLayer::Staged {
  std::mutex mu;
  std::string path;  // the mount path (key of staged_)
  Target target;
  std::string spool_path;
  int fd = -1;
  uint64_t size = 0;   // guarded by mu
  int64_t mtime = 0;   // guarded by mu
  int opens = 0;       // guarded by mu: handles open on it
  int writers = 0;     // guarded by mu: of those, open for writing
  bool dirty = false;  // guarded by mu: changes not saved yet
  bool gone = false;   // guarded by mu: dropped from staged_ (a new Stage makes another)
};

struct WriteLayer::Handle {
  std::shared_ptr<Staged> staged;
  bool writable = false;
};

namespace {

std::string_view Trim(std::string_view path) {
  while (path.starts_with('/')) path.remove_prefix(1);
  while (path.ends_with('/')) path.remove_suffix(1);
  return path;
}

std::pair<std::string_view, std::string_view> SplitFirst(std::string_view path) {
  path = Trim(path);
  size_t slash = path.find('/');
  if (slash == std::string_view::npos) return {path, {}};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

bool IsUuid(std::string_view id) { return id.size() == 27 && id.substr(5, 7) == "-4zz18-"; }

Status ReadOnly(std::string_view path) {
  return PermissionDeniedError(std::string(path) + ": read-only (not a collection you own)");
}

}  // namespace

// --- WriteLayer

WriteLayer::WriteLayer(CollectionTree* tree, CollectionSource* collections, BlockSource* blocks,
                       CollectionStore* store, WriteOptions options)
    : tree_(tree),
      collections_(collections),
      blocks_(blocks),
      store_(store),
      options_(std::move(options)) {}

WriteLayer::~WriteLayer() {
  Status flushed = FlushAll();
  if (!flushed.ok()) Log("saving pending writes: " + std::string(flushed.message()));
  std::lock_guard lock(mu_);
  for (auto& [path, staged] : staged_) {
    std::lock_guard file_lock(staged->mu);
    if (staged->fd >= 0) ::close(staged->fd);
    staged->fd = -1;
    if (staged->dirty) {
      Log(path + ": not saved; its bytes are kept in " + staged->spool_path);
    } else {
      ::unlink(staged->spool_path.c_str());
    }
  }
}

void WriteLayer::Log(std::string_view line) const {
  if (options_.log) {
    options_.log(line);
  } else {
    std::fprintf(stderr, "cairn mount: %.*s\n", static_cast<int>(line.size()), line.data());
  }
}

uint64_t WriteLayer::spool_bytes() {
  std::lock_guard lock(mu_);
  return spool_bytes_;
}

Result<WriteLayer::Target> WriteLayer::Locate(std::string_view path) {
  Target t;
  std::string_view id;
  std::string_view inner;
  if (!options_.collection_id.empty()) {
    id = options_.collection_id;
    inner = Trim(path);
    t.root = "/";
  } else {
    auto [top, rest] = SplitFirst(path);
    auto [name, in] = SplitFirst(rest);
    if (name.empty() || (top != "home" && top != "by_id")) return ReadOnly(path);
    if (top == "by_id" && in.empty()) return ReadOnly(path);  // collections are not made there
    t.root = "/" + std::string(top) + "/" + std::string(name);
    id = name;
    inner = in;
  }
  CAIRN_ASSIGN_OR_RETURN(Node root, tree_->Resolve(t.root));
  const bool in_home = options_.collection_id.empty() && Trim(path).starts_with("home/");
  if (!in_home) {
    // by_id/ or the one collection: writable when the caller owns it (never a PDH).
    if (!IsUuid(id) || root.collection == nullptr ||
        root.collection->meta.owner_uuid != options_.user_uuid) {
      return ReadOnly(path);
    }
  }
  t.uuid = root.uuid;
  if (t.uuid.empty()) return ReadOnly(path);
  t.inner = std::string(inner);
  return t;
}

Status WriteLayer::Modify(const std::string& uuid, const std::function<Status(Manifest*)>& change) {
  std::lock_guard lock(save_mu_);
  CAIRN_ASSIGN_OR_RETURN(client::Collection current, collections_->Get(uuid));
  CAIRN_ASSIGN_OR_RETURN(Manifest m, Manifest::Parse(current.manifest_text));
  CAIRN_RETURN_IF_ERROR(change(&m));
  CAIRN_ASSIGN_OR_RETURN(client::Collection saved, store_->Save(uuid, m.ToText()));
  return tree_->Saved(std::move(saved));
}

std::optional<Attr> WriteLayer::StagedAttr(std::string_view path) {
  std::shared_ptr<Staged> staged;
  {
    std::lock_guard lock(mu_);
    auto it = staged_.find(path);
    if (it == staged_.end()) return std::nullopt;
    staged = it->second;
  }
  std::lock_guard lock(staged->mu);
  return Attr{.is_directory = false, .size = staged->size, .mtime = staged->mtime, .nlink = 1};
}

bool WriteLayer::IsStaged(std::string_view path) {
  std::lock_guard lock(mu_);
  return staged_.contains(path);
}

void WriteLayer::AddStagedEntries(std::string_view dir,
                                  std::vector<std::pair<std::string, Attr>>* entries) {
  std::string prefix = "/" + std::string(Trim(dir));
  if (prefix != "/") prefix += "/";
  std::vector<std::pair<std::string, std::shared_ptr<Staged>>> found;
  {
    std::lock_guard lock(mu_);
    for (auto it = staged_.lower_bound(prefix); it != staged_.end(); ++it) {
      if (!it->first.starts_with(prefix)) break;
      std::string name = it->first.substr(prefix.size());
      if (name.empty() || name.find('/') != std::string::npos) continue;
      found.emplace_back(std::move(name), it->second);
    }
  }
  for (auto& entry : found) {
    const std::string& name = entry.first;
    Staged* staged = entry.second.get();
    Attr attr;
    {
      std::lock_guard lock(staged->mu);
      attr = Attr{.is_directory = false, .size = staged->size, .mtime = staged->mtime, .nlink = 1};
    }
    auto same = std::find_if(entries->begin(), entries->end(),
                             [&](const auto& listed) { return listed.first == name; });
    if (same != entries->end()) {
      same->second = attr;
    } else {
      entries->emplace_back(name, attr);
    }
  }
}

Result<std::shared_ptr<WriteLayer::Staged>> WriteLayer::Stage(std::string_view path,
                                                              bool copy_existing) {
  CAIRN_ASSIGN_OR_RETURN(Target target, Locate(path));
  if (target.inner.empty()) return InvalidArgumentError(std::string(path) + ": a directory");
  auto staged = std::make_shared<Staged>();
  staged->path = std::string(path);
  staged->target = std::move(target);
  staged->mtime = static_cast<int64_t>(::time(nullptr));
  // Locked before it is shared (file lock before the layer's, as everywhere): others wait until
  // the copy is in.
  std::unique_lock file_lock(staged->mu);
  {
    std::lock_guard lock(mu_);
    auto it = staged_.find(path);
    if (it != staged_.end()) return it->second;
    staged->spool_path = options_.spool_dir + "/" + std::to_string(next_spool_id_++);
    staged_.emplace(staged->path, staged);
  }
  auto fail = [&](Status status) {
    std::lock_guard lock(mu_);
    staged_.erase(staged->path);
    spool_bytes_ -= staged->size;
    staged->gone = true;
    if (staged->fd >= 0) ::close(staged->fd);
    staged->fd = -1;
    ::unlink(staged->spool_path.c_str());
    return status;
  };
  std::error_code ec;
  std::filesystem::create_directories(options_.spool_dir, ec);
  staged->fd = ::open(staged->spool_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (staged->fd < 0) return fail(ErrnoError("spool " + staged->spool_path, errno));
  if (copy_existing) {
    Result<Node> node = tree_->Resolve(path);
    if (!node.ok()) return fail(node.status());
    HandleReader reader(blocks_, node->collection, node->node, 1);
    std::vector<char> buf(1 << 20);
    uint64_t offset = 0;
    while (offset < reader.size()) {
      Result<size_t> n = reader.ReadAt(offset, std::span<char>(buf));
      if (!n.ok()) return fail(n.status());
      if (*n == 0) break;
      {
        std::lock_guard lock(mu_);
        if (spool_bytes_ + *n > options_.max_spool_bytes) {
          return fail(ResourceExhaustedError("the spool is full (--spool-mib)"));
        }
        spool_bytes_ += *n;
        staged->size += *n;
      }
      if (::pwrite(staged->fd, buf.data(), *n, static_cast<off_t>(offset)) !=
          static_cast<ssize_t>(*n)) {
        return fail(ErrnoError("spool " + staged->spool_path, errno));
      }
      offset += *n;
    }
  }
  return staged;
}

Result<WriteLayer::Handle*> WriteLayer::Open(std::string_view path, int flags) {
  const bool writable = (flags & O_ACCMODE) != O_RDONLY;
  std::shared_ptr<Staged> staged;
  if (!writable) {
    std::lock_guard lock(mu_);
    auto it = staged_.find(path);
    if (it == staged_.end()) return FailedPreconditionError("not staged");
    staged = it->second;
  } else {
    const bool truncate = (flags & O_TRUNC) != 0;
    CAIRN_ASSIGN_OR_RETURN(staged, Stage(path, !truncate));
    if (truncate) {
      auto handle = std::make_unique<Handle>(Handle{.staged = staged, .writable = true});
      CAIRN_RETURN_IF_ERROR(Truncate(handle.get(), 0));
    }
  }
  std::lock_guard file_lock(staged->mu);
  if (staged->gone) return UnavailableError(std::string(path) + ": saved meanwhile; open again");
  ++staged->opens;
  if (writable) ++staged->writers;
  auto handle = std::make_unique<Handle>(Handle{.staged = staged, .writable = writable});
  Handle* raw = handle.get();
  std::lock_guard lock(mu_);
  handles_.emplace(raw, std::move(handle));
  return raw;
}

Result<WriteLayer::Handle*> WriteLayer::Create(std::string_view path) {
  CAIRN_ASSIGN_OR_RETURN(Handle * handle, Open(path, O_WRONLY | O_TRUNC));
  std::lock_guard lock(handle->staged->mu);
  handle->staged->dirty = true;  // a new empty file is saved too
  return handle;
}

Result<size_t> WriteLayer::Read(Handle* handle, uint64_t offset, std::span<char> out) {
  Staged& s = *handle->staged;
  std::lock_guard lock(s.mu);
  if (offset >= s.size) return size_t{0};
  size_t want = static_cast<size_t>(std::min<uint64_t>(out.size(), s.size - offset));
  size_t done = 0;
  while (done < want) {
    ssize_t n = ::pread(s.fd, out.data() + done, want - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("spool " + s.spool_path, errno);
    if (n == 0) {  // a hole past what was written: zeros
      std::fill(out.begin() + static_cast<ptrdiff_t>(done), out.begin() + want, '\0');
      break;
    }
    done += static_cast<size_t>(n);
  }
  return want;
}

Result<size_t> WriteLayer::Write(Handle* handle, uint64_t offset, std::span<const char> data) {
  if (!handle->writable) return PermissionDeniedError("not open for writing");
  Staged& s = *handle->staged;
  std::lock_guard lock(s.mu);
  const uint64_t end = offset + data.size();
  if (end > s.size) {
    std::lock_guard layer_lock(mu_);
    if (spool_bytes_ + (end - s.size) > options_.max_spool_bytes) {
      return ResourceExhaustedError("the spool is full (--spool-mib)");
    }
    spool_bytes_ += end - s.size;
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        ::pwrite(s.fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      if (end > s.size) {
        std::lock_guard layer_lock(mu_);
        spool_bytes_ -= end - s.size;
      }
      return ErrnoError("spool " + s.spool_path, err);
    }
    done += static_cast<size_t>(n);
  }
  s.size = std::max(s.size, end);
  s.mtime = static_cast<int64_t>(::time(nullptr));
  s.dirty = true;
  return data.size();
}

Status WriteLayer::Truncate(Handle* handle, uint64_t size) {
  if (!handle->writable) return PermissionDeniedError("not open for writing");
  Staged& s = *handle->staged;
  std::lock_guard lock(s.mu);
  {
    std::lock_guard layer_lock(mu_);
    if (size > s.size && spool_bytes_ + (size - s.size) > options_.max_spool_bytes) {
      return ResourceExhaustedError("the spool is full (--spool-mib)");
    }
    if (::ftruncate(s.fd, static_cast<off_t>(size)) != 0) {
      return ErrnoError("spool " + s.spool_path, errno);
    }
    spool_bytes_ = spool_bytes_ - s.size + size;
  }
  s.size = size;
  s.mtime = static_cast<int64_t>(::time(nullptr));
  s.dirty = true;
  return Status();
}

Status WriteLayer::Truncate(std::string_view path, uint64_t size) {
  CAIRN_ASSIGN_OR_RETURN(Handle * handle, Open(path, size == 0 ? O_WRONLY | O_TRUNC : O_WRONLY));
  Status status = Truncate(handle, size);
  if (status.ok()) status = Flush(handle, /*force=*/true);
  Release(handle);
  return status;
}

Status WriteLayer::Save(Staged* s) {
  if (!s->dirty) return Status();
  // The blocks first (outside the manifest lock): one block in memory at a time.
  std::vector<manifest::Locator> locators;
  std::string block;
  for (uint64_t offset = 0; offset < s->size; offset += options_.block_size) {
    const size_t length = static_cast<size_t>(std::min(options_.block_size, s->size - offset));
    block.resize(length);
    size_t done = 0;
    while (done < length) {
      ssize_t n =
          ::pread(s->fd, block.data() + done, length - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoError("spool " + s->spool_path, errno);
      if (n == 0) {
        std::fill(block.begin() + static_cast<ptrdiff_t>(done), block.end(), '\0');
        break;
      }
      done += static_cast<size_t>(n);
    }
    CAIRN_ASSIGN_OR_RETURN(manifest::Locator locator, store_->PutBlock(block));
    locators.push_back(std::move(locator));
  }
  const std::string& inner = s->target.inner;
  Status modified = Modify(s->target.uuid, [&](Manifest* m) -> Status {
    if (std::optional<Manifest::NodeId> old = m->Find(inner)) {
      if (m->IsDirectory(*old)) return InvalidArgumentError(inner + ": is a directory now");
      CAIRN_RETURN_IF_ERROR(m->Remove(inner));
    }
    CAIRN_ASSIGN_OR_RETURN(Manifest::NodeId file, m->MakeFile(inner));
    for (const manifest::Locator& locator : locators) {
      const uint32_t index = m->AddBlock(locator);
      CAIRN_RETURN_IF_ERROR(
          m->AppendExtent(file, {.block = index, .offset = 0, .length = locator.size()}));
    }
    return Status();
  });
  CAIRN_RETURN_IF_ERROR(modified);
  s->dirty = false;
  return Status();
}

void WriteLayer::MaybeUnstage(Staged* s) {
  if (s->opens > 0 || s->dirty || s->gone) return;
  std::lock_guard lock(mu_);
  auto it = staged_.find(s->path);
  if (it != staged_.end() && it->second.get() == s) staged_.erase(it);
  spool_bytes_ -= s->size;
  s->gone = true;
  if (s->fd >= 0) ::close(s->fd);
  s->fd = -1;
  ::unlink(s->spool_path.c_str());
}

Status WriteLayer::Flush(Handle* handle, bool force) {
  if (!handle->writable) return Status();
  Staged& s = *handle->staged;
  std::lock_guard lock(s.mu);
  if (!force && s.writers > 1) return Status();  // the last writer saves
  Status saved = Save(&s);
  if (!saved.ok()) Log("save " + s.path + ": " + std::string(saved.message()));
  return saved;
}

void WriteLayer::Release(Handle* handle) {
  std::unique_ptr<Handle> owned;
  {
    std::lock_guard lock(mu_);
    auto it = handles_.find(handle);
    if (it == handles_.end()) return;
    owned = std::move(it->second);
    handles_.erase(it);
  }
  Staged& s = *owned->staged;
  std::lock_guard lock(s.mu);
  --s.opens;
  if (owned->writable) --s.writers;
  if (s.writers == 0 && s.dirty) {
    Status saved = Save(&s);
    if (!saved.ok()) Log("save " + s.path + " (kept staged): " + std::string(saved.message()));
  }
  MaybeUnstage(&s);
}

Status WriteLayer::FlushAll() {
  std::vector<std::shared_ptr<Staged>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [path, staged] : staged_) all.push_back(staged);
  }
  Status first;
  for (auto& staged : all) {
    std::lock_guard lock(staged->mu);
    if (staged->gone) continue;
    Status saved = Save(staged.get());
    if (!saved.ok() && first.ok()) first = saved.WithContext("save " + staged->path);
    MaybeUnstage(staged.get());
  }
  return first;
}

}  // namespace cairn::mount
