#include "cairn/client/collection_writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <optional>
#include <utility>

#include "cairn/client/json_internal.h"
#include "cairn/common/hash.h"
#include "cairn/common/thread_pool.h"
#include "cairn/manifest/manifest.h"

namespace cairn::client {
namespace {

using internal::Json;

// A resumed block's signature must stay valid this long, to cover the rest of the upload and
// the save (the catalog refuses expired signatures).
constexpr int64_t kResumeSignatureMarginSeconds = 3600;

std::string JoinPath(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  return std::string(dir) + "/" + std::string(name);
}

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

// Reads exactly `length` bytes at `offset` of `path` into `out` (appending).
Status ReadRange(const std::string& path, uint64_t offset, uint64_t length, std::string* out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("read " + path, errno);
  const size_t start = out->size();
  out->resize(start + length);
  uint64_t done = 0;
  while (done < length) {
    ssize_t n =
        ::pread(fd, out->data() + start + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = ErrnoError("read " + path, errno);
      ::close(fd);
      return s;
    }
    if (n == 0) {
      ::close(fd);
      return AbortedError("read " + path + ": the file shrank while it was uploaded");
    }
    done += static_cast<uint64_t>(n);
  }
  ::close(fd);
  return Status();
}

}  // namespace

std::string ResumeCachePath(std::string_view cache_dir, std::string_view api_base_url,
                            const std::vector<std::string>& absolute_paths, uint64_t block_size,
                            int replication) {
  std::string key(api_base_url);
  for (const std::string& p : absolute_paths) {
    key += '\0';
    key += p;
  }
  key += '\0' + std::to_string(block_size) + '\0' + std::to_string(replication);
  return std::string(cache_dir) + "/" + Md5Hex(key);
}

CollectionWriter::CollectionWriter(KeepClient* keep, io::Env* env, CollectionWriterOptions options)
    : keep_(keep), env_(env), options_(std::move(options)) {}

Status CollectionWriter::Add(const std::string& local_path, const std::string& collection_path) {
  struct stat st;
  if (::stat(local_path.c_str(), &st) != 0) return ErrnoError("put " + local_path, errno);
  if (S_ISDIR(st.st_mode)) {
    std::vector<std::pair<uint64_t, uint64_t>> ancestors = {{st.st_dev, st.st_ino}};
    return AddDirectory(local_path, collection_path, &ancestors);
  }
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgumentError("put " + local_path + ": not a regular file or directory");
  }
  if (collection_path.empty()) return InvalidArgumentError("put " + local_path + ": no name");
  files_.push_back(File{.local_path = local_path,
                        .path = collection_path,
                        .size = static_cast<uint64_t>(st.st_size),
                        .mtime_ns = MtimeNs(st)});
  bytes_total_ += static_cast<uint64_t>(st.st_size);
  return Status();
}

Status CollectionWriter::AddDirectory(const std::string& local_path,
                                      const std::string& collection_path,
                                      std::vector<std::pair<uint64_t, uint64_t>>* ancestors) {
  DIR* dir = ::opendir(local_path.c_str());
  if (dir == nullptr) return ErrnoError("put " + local_path, errno);
  std::vector<std::string> names;
  errno = 0;
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  bool any = false;
  for (const std::string& name : names) {
    const std::string child = local_path + "/" + name;
    struct stat st;
    if (::stat(child.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;  // a dangling symbolic link or a file just removed
      return ErrnoError("put " + child, errno);
    }
    if (S_ISDIR(st.st_mode)) {
      std::pair<uint64_t, uint64_t> id = {st.st_dev, st.st_ino};
      if (std::find(ancestors->begin(), ancestors->end(), id) != ancestors->end()) {
        return InvalidArgumentError("put " + child + ": a symbolic link loop");
      }
      ancestors->push_back(id);
      Status s = AddDirectory(child, JoinPath(collection_path, name), ancestors);
      ancestors->pop_back();
      CAIRN_RETURN_IF_ERROR(s);
      any = true;
    } else if (S_ISREG(st.st_mode)) {
      CAIRN_RETURN_IF_ERROR(Add(child, JoinPath(collection_path, name)));
      any = true;
    }
  }
  if (!any && !collection_path.empty()) empty_directories_.push_back(collection_path);
  return Status();
}

std::vector<CollectionWriter::BlockPlan> CollectionWriter::Plan() {
  std::vector<size_t> order(files_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return files_[a].path < files_[b].path; });
  const uint64_t block_size = std::max<uint64_t>(1, options_.block_size);
  std::vector<BlockPlan> blocks;
  BlockPlan current;
  auto close = [&] {
    if (current.size > 0) blocks.push_back(std::move(current));
    current = BlockPlan();
  };
  for (size_t index : order) {
    const File& file = files_[index];
    if (file.size >= block_size / 2) close();
    uint64_t offset = 0;
    while (offset < file.size) {
      uint64_t n = std::min(file.size - offset, block_size - current.size);
      current.pieces.push_back(Piece{.file = index, .file_offset = offset, .length = n});
      current.size += n;
      offset += n;
      if (current.size == block_size) close();
    }
  }
  close();
  for (BlockPlan& block : blocks) {
    std::string key;
    for (const Piece& p : block.pieces) {
      const File& f = files_[p.file];
      key += f.local_path + '\0' + std::to_string(f.size) + '\0' + std::to_string(f.mtime_ns) +
             '\0' + std::to_string(p.file_offset) + '\0' + std::to_string(p.length) + '\n';
    }
    block.fingerprint = Md5Hex(key);
  }
  return blocks;
}

Result<std::string> CollectionWriter::ReadBlock(const BlockPlan& block) const {
  std::string data;
  data.reserve(block.size);
  for (const Piece& p : block.pieces) {
    CAIRN_RETURN_IF_ERROR(ReadRange(files_[p.file].local_path, p.file_offset, p.length, &data));
  }
  return data;
}

void CollectionWriter::LoadResumeCache() {
  if (options_.resume_cache_path.empty()) return;
  Result<std::unique_ptr<io::FileContents>> contents = env_->ReadFile(options_.resume_cache_path);
  if (!contents.ok()) return;  // none yet (or unreadable: start over)
  Result<Json> doc = internal::ParseJson((*contents)->data(), "resume cache");
  if (!doc.ok() || !doc->is_object()) return;
  auto blocks = doc->find("blocks");
  if (blocks == doc->end() || !blocks->is_object()) return;
  const int64_t now = env_->NowUnixSeconds();
  std::lock_guard lock(mu_);
  for (auto it = blocks->begin(); it != blocks->end(); ++it) {
    if (!it.value().is_string()) continue;
    Result<manifest::Locator> locator = manifest::Locator::Parse(it.value().get<std::string>());
    if (!locator.ok()) continue;
    std::optional<manifest::PermissionHint> permission = locator->permission();
    if (permission && permission->expiry() < now + kResumeSignatureMarginSeconds) continue;
    resume_[it.key()] = locator->ToString();
  }
}

void CollectionWriter::SaveResumeCacheLocked(bool force) {
  if (options_.resume_cache_path.empty() || !resume_dirty_) return;
  const int64_t now = env_->NowUnixSeconds();
  if (!force && now - resume_saved_at_ < 1) return;
  Json blocks = Json::object();
  for (const auto& [fingerprint, locator] : resume_) blocks[fingerprint] = locator;
  Json doc = {{"version", 1}, {"blocks", std::move(blocks)}};
  // A cache that cannot be written costs only the resume, not the upload.
  if (env_->WriteFileAtomically(options_.resume_cache_path, doc.dump()).ok()) {
    resume_saved_at_ = now;
    resume_dirty_ = false;
  }
}

Result<std::string> CollectionWriter::Write() {
  LoadResumeCache();
  std::vector<BlockPlan> blocks = Plan();
  std::vector<manifest::Locator> locators(
      blocks.size(), manifest::Locator(*manifest::BlockHash::Parse(manifest::kEmptyBlockHash), 0));
  {
    std::lock_guard lock(mu_);
    progress_ = WriteProgress{.bytes_total = bytes_total_};
  }
  auto report = [&](uint64_t bytes, bool resumed) {  // REQUIRES: mu_ held
    progress_.bytes_done += bytes;
    if (resumed) progress_.bytes_resumed += bytes;
    if (options_.progress) options_.progress(progress_);
  };
  const int threads = std::max(1, options_.threads);
  CAIRN_ASSIGN_OR_RETURN(auto pool,
                         ThreadPool::Create({.num_threads = threads, .queue_capacity = 1}));
  Status status;
  {
    TaskGroup group(pool.get());
    for (size_t i = 0; i < blocks.size() && !group.cancelled(); ++i) {
      {
        std::lock_guard lock(mu_);
        auto it = resume_.find(blocks[i].fingerprint);
        if (it != resume_.end()) {
          locators[i] = *manifest::Locator::Parse(it->second);
          ++stats_.blocks_resumed;
          report(blocks[i].size, /*resumed=*/true);
          continue;
        }
      }
      Result<std::string> data = ReadBlock(blocks[i]);
      if (!data.ok()) {
        group.Cancel();
        status = data.status();
        break;
      }
      group.Add([this, i, &blocks, &locators, &report,
                 data = std::make_shared<std::string>(std::move(*data))]() -> Status {
        CAIRN_ASSIGN_OR_RETURN(PutResult put, keep_->Put(*data, options_.replication));
        std::lock_guard lock(mu_);
        locators[i] = put.locator;
        resume_[blocks[i].fingerprint] = put.locator.ToString();
        resume_dirty_ = true;
        ++stats_.blocks_uploaded;
        report(blocks[i].size, /*resumed=*/false);
        SaveResumeCacheLocked(/*force=*/false);
        return Status();
      });
    }
    Status group_status = group.Wait();
    if (status.ok()) status = group_status;
  }
  {
    std::lock_guard lock(mu_);
    SaveResumeCacheLocked(/*force=*/true);
  }
  CAIRN_RETURN_IF_ERROR(status);
  stats_.files = files_.size();
  return BuildManifest(blocks, locators);
}

Result<std::string> CollectionWriter::BuildManifest(
    const std::vector<BlockPlan>& blocks, const std::vector<manifest::Locator>& locators) const {
  manifest::Manifest m;
  std::vector<std::optional<manifest::Manifest::NodeId>> nodes(files_.size());
  for (size_t i = 0; i < files_.size(); ++i) {
    if (files_[i].size == 0) {
      CAIRN_ASSIGN_OR_RETURN(nodes[i], m.MakeFile(files_[i].path));
    }
  }
  for (size_t b = 0; b < blocks.size(); ++b) {
    const uint32_t index = m.AddBlock(locators[b]);
    uint64_t offset = 0;
    for (const Piece& p : blocks[b].pieces) {
      if (!nodes[p.file]) {
        CAIRN_ASSIGN_OR_RETURN(nodes[p.file], m.MakeFile(files_[p.file].path));
      }
      CAIRN_RETURN_IF_ERROR(m.AppendExtent(
          *nodes[p.file], manifest::Extent{.block = index, .offset = offset, .length = p.length}));
      offset += p.length;
    }
  }
  for (const std::string& dir : empty_directories_) {
    CAIRN_RETURN_IF_ERROR(m.MakeDirectories(dir).status());
  }
  return m.ToText();
}

Result<Collection> CollectionWriter::Finish(CatalogClient* catalog, const std::string& name) {
  CAIRN_ASSIGN_OR_RETURN(std::string manifest_text, Write());
  CollectionFields fields;
  fields.manifest_text = std::move(manifest_text);
  if (!name.empty()) fields.name = name;
  fields.replication_desired = options_.replication;
  CAIRN_ASSIGN_OR_RETURN(Collection collection, catalog->CreateCollection(fields));
  if (!options_.resume_cache_path.empty()) ::unlink(options_.resume_cache_path.c_str());
  return collection;
}

}  // namespace cairn::client
