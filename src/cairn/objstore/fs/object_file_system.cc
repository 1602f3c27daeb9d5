#include "cairn/objstore/fs/object_file_system.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <future>
#include <mutex>
#include <utility>

#include "cairn/objstore/fs/object_file_writer.h"

namespace cairn::objstore::fs {

namespace {

// S3 and this layer's List: at most 1,000 keys a page.
constexpr int kListPage = 1000;

FileStatus FileOf(std::string path, uint64_t size, int64_t last_modified, std::string etag) {
  return FileStatus{.path = std::move(path),
                    .type = FileType::kFile,
                    .size = size,
                    .last_modified = last_modified,
                    .etag = std::move(etag)};
}

FileStatus DirectoryOf(std::string path, int64_t last_modified = 0) {
  return FileStatus{.path = std::move(path),
                    .type = FileType::kDirectory,
                    .size = 0,
                    .last_modified = last_modified,
                    .etag = ""};
}

// A listing of one prefix, one page in memory: objects and (one level) common prefixes merged in
// key order; the directory's own marker and (recursively) every marker left out.
class PrefixLister final : public FileLister {
 public:
  PrefixLister(ObjectStore* store, std::string container, std::string prefix, bool recursive,
               int page_size)
      : store_(store),
        container_(std::move(container)),
        prefix_(std::move(prefix)),
        recursive_(recursive),
        page_size_(std::clamp(page_size, 1, kListPage)) {}

  Result<std::optional<FileStatus>> Next() override {
    while (entries_.empty()) {
      if (done_) return std::optional<FileStatus>();
      CAIRN_RETURN_IF_ERROR(Fetch());
    }
    FileStatus entry = std::move(entries_.front());
    entries_.pop_front();
    return std::optional<FileStatus>(std::move(entry));
  }

 private:
  Status Fetch() {
    ListOptions options{.prefix = prefix_,
                        .delimiter = recursive_ ? "" : "/",
                        .marker = marker_,
                        .max_keys = page_size_};
    CAIRN_ASSIGN_OR_RETURN(ListPage page, store_->List(container_, options));
    marker_ = page.next_marker;
    done_ = marker_.empty();
    size_t p = 0;
    auto add_prefixes_before = [&](const std::string* key) {
      for (; p < page.common_prefixes.size() && (key == nullptr || page.common_prefixes[p] < *key);
           ++p) {
        std::string_view dir = page.common_prefixes[p];
        dir.remove_suffix(1);  // "a/b/" → "a/b"
        entries_.push_back(DirectoryOf(std::string(dir)));
      }
    };
    for (ListedObject& o : page.objects) {
      add_prefixes_before(&o.key);
      if (o.key.ends_with('/')) continue;  // a directory marker
      entries_.push_back(FileOf(std::move(o.key), o.size, o.last_modified, std::move(o.etag)));
    }
    add_prefixes_before(nullptr);
    return Status();
  }

  ObjectStore* const store_;
  const std::string container_;
  const std::string prefix_;
  const bool recursive_;
  const int page_size_;
  std::string marker_;
  bool done_ = false;
  std::deque<FileStatus> entries_;
};

// The listing of a file: the file.
class SingleLister final : public FileLister {
 public:
  explicit SingleLister(FileStatus status) : status_(std::move(status)) {}
  Result<std::optional<FileStatus>> Next() override {
    if (done_) return std::optional<FileStatus>();
    done_ = true;
    return std::optional<FileStatus>(status_);
  }

 private:
  FileStatus status_;
  bool done_ = false;
};

// A SeekableReader seen as a FileReader.
class ObjectFileReader final : public FileReader {
 public:
  explicit ObjectFileReader(std::unique_ptr<SeekableReader> reader) : reader_(std::move(reader)) {}
  uint64_t size() const override { return reader_->size(); }
  Result<size_t> Read(std::span<char> out) override { return reader_->Read(out); }
  Result<size_t> ReadAt(uint64_t offset, std::span<char> out) override {
    return reader_->ReadAt(offset, out);
  }
  Status Seek(uint64_t offset) override { return reader_->Seek(offset); }
  uint64_t position() const override { return reader_->position(); }

 private:
  std::unique_ptr<SeekableReader> reader_;
};

}  // namespace

std::string DirectoryPrefix(std::string_view dir) {
  return dir.empty() ? std::string() : std::string(dir) + "/";
}

Result<std::unique_ptr<ObjectFileSystem>> ObjectFileSystem::Create(
    ObjectStore* store, std::string container, ObjectFileSystemOptions options) {
  if (options.threads < 1 || options.threads > 1024) {
    return InvalidArgumentError("file system threads must be 1..1024");
  }
  CAIRN_ASSIGN_OR_RETURN(
      std::unique_ptr<ThreadPool> pool,
      ThreadPool::Create({.num_threads = options.threads,
                          .queue_capacity = 2 * static_cast<size_t>(options.threads)}));
  return std::unique_ptr<ObjectFileSystem>(
      new ObjectFileSystem(store, std::move(container), options, std::move(pool)));
}

ObjectFileSystem::ObjectFileSystem(ObjectStore* store, std::string container,
                                   ObjectFileSystemOptions options,
                                   std::unique_ptr<ThreadPool> pool)
    : store_(store), container_(std::move(container)), options_(options), pool_(std::move(pool)) {}

ObjectFileSystem::~ObjectFileSystem() { pool_->Shutdown(ThreadPool::ShutdownMode::kDrain); }

std::string ObjectFileSystem::Describe(std::string_view path) const {
  return store_->Uri(container_, path);
}

bool ObjectFileSystem::PerObjectMoves() const {
  switch (options_.moves) {
    case ObjectFileSystemOptions::Moves::kPerObject:
      return true;
    case ObjectFileSystemOptions::Moves::kCopyThenBulkDelete:
      return false;
    case ObjectFileSystemOptions::Moves::kAuto:
      break;
  }
  return store_->Uri("c", "").starts_with("swift://");
}

Result<FileStatus> ObjectFileSystem::Stat(std::string_view path) {
  CAIRN_ASSIGN_OR_RETURN(std::string p, NormalizePath(path));
  return StatNormalized(p);
}

Result<FileStatus> ObjectFileSystem::StatNormalized(const std::string& path) {
  const std::string prefix = DirectoryPrefix(path);
  ListOptions one{.prefix = prefix, .delimiter = "", .marker = "", .max_keys = 1};
  if (path.empty()) {
    // The root exists when the container does.
    CAIRN_RETURN_IF_ERROR(
        store_->List(container_, one).status().WithContext("stat " + Describe("")));
    return DirectoryOf("");
  }
  // HEAD the key and list "key/" at once: the listing runs on the pool when it has room.
  auto listing = std::make_shared<std::promise<Result<ListPage>>>();
  std::future<Result<ListPage>> listed = listing->get_future();
  auto list = [this, one, listing] { listing->set_value(store_->List(container_, one)); };
  if (!pool_->TrySubmit(list).ok()) list();
  Result<ObjectAttributes> head = store_->Head(container_, path);
  Result<ListPage> page = listed.get();
  if (head.ok()) return FileOf(path, head->size, head->last_modified, head->etag);
  if (head.status().code() != StatusCode::kNotFound) {
    return head.status().WithContext("stat " + Describe(path));
  }
  if (!page.ok()) {
    if (page.status().code() == StatusCode::kNotFound) {
      return NotFoundError("stat " + Describe(path) + ": no such file or directory");
    }
    return page.status().WithContext("stat " + Describe(path));
  }
  if (page->objects.empty() && page->common_prefixes.empty()) {
    return NotFoundError("stat " + Describe(path) + ": no such file or directory");
  }
  int64_t when = 0;
  if (!page->objects.empty() && page->objects[0].key == prefix) {
    when = page->objects[0].last_modified;  // the marker's time
  }
  return DirectoryOf(path, when);
}

Result<bool> ObjectFileSystem::HasEntries(const std::string& dir) {
  const std::string prefix = DirectoryPrefix(dir);
  CAIRN_ASSIGN_OR_RETURN(
      ListPage page,
      store_->List(container_, {.prefix = prefix, .delimiter = "/", .marker = "", .max_keys = 2}));
  for (const ListedObject& o : page.objects) {
    if (o.key != prefix) return true;
  }
  return !page.common_prefixes.empty();
}

Status ObjectFileSystem::KeepDirectory(const std::string& dir) {
  if (dir.empty()) return Status();
  const std::string prefix = DirectoryPrefix(dir);
  CAIRN_ASSIGN_OR_RETURN(
      ListPage page,
      store_->List(container_, {.prefix = prefix, .delimiter = "", .marker = "", .max_keys = 1}));
  if (!page.objects.empty() || !page.common_prefixes.empty()) return Status();
  return store_->Put(container_, prefix, http::RequestBody::FromBytes(""), {}).status();
}

Result<std::unique_ptr<FileLister>> ObjectFileSystem::List(std::string_view path,
                                                           const ListingOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(std::string p, NormalizePath(path));
  CAIRN_ASSIGN_OR_RETURN(FileStatus status, StatNormalized(p));
  if (!status.is_directory()) return std::unique_ptr<FileLister>(new SingleLister(status));
  return std::unique_ptr<FileLister>(new PrefixLister(store_, container_, DirectoryPrefix(p),
                                                      options.recursive, options.page_size));
}

Result<std::unique_ptr<FileReader>> ObjectFileSystem::Open(std::string_view path,
                                                           const OpenOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(std::string p, NormalizePath(path));
  const std::string what = "open " + Describe(p);
  if (p.empty()) return FailedPreconditionError(what + ": is a directory");
  SeekableReaderOptions reader_options;
  reader_options.policy = options.policy;
  Result<std::unique_ptr<SeekableReader>> reader =
      SeekableReader::Open(store_, container_, p, reader_options);
  if (!reader.ok()) {
    if (reader.status().code() != StatusCode::kNotFound) return reader.status();
    Result<FileStatus> status = StatNormalized(p);
    if (status.ok() && status->is_directory()) {
      return FailedPreconditionError(what + ": is a directory");
    }
    return reader.status();
  }
  return std::unique_ptr<FileReader>(new ObjectFileReader(std::move(*reader)));
}

Result<std::unique_ptr<FileWriter>> ObjectFileSystem::Create(std::string_view path,
                                                             const CreateOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(std::string p, NormalizePath(path));
  const std::string what = "create " + Describe(p);
  if (p.empty()) return FailedPreconditionError(what + ": is a directory");
  if (options.parts_in_flight < 1) return InvalidArgumentError(what + ": parts_in_flight < 1");
  Result<FileStatus> existing = StatNormalized(p);
  if (existing.ok()) {
    if (existing->is_directory()) return FailedPreconditionError(what + ": is a directory");
    if (!options.overwrite) return AlreadyExistsError(what + ": the file exists");
  } else if (existing.status().code() != StatusCode::kNotFound) {
    return existing.status();
  }
  CreateOptions effective = options;
  effective.part_size = std::max<uint64_t>({options.part_size, store_->limits().min_part_size, 1});
  return std::unique_ptr<FileWriter>(
      new ObjectFileWriter(store_, pool_.get(), container_, p, effective));
}

Status ObjectFileSystem::Mkdirs(std::string_view path) {
  CAIRN_ASSIGN_OR_RETURN(std::string p, NormalizePath(path));
  if (p.empty()) return Status();
  const std::string what = "mkdirs " + Describe(p);
  Result<FileStatus> existing = StatNormalized(p);
  if (existing.ok()) {
    if (existing->is_directory()) return Status();
    return AlreadyExistsError(what + ": a file is there");
  }
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();
  for (std::string up = ParentPath(p); !up.empty(); up = ParentPath(up)) {
    Result<ObjectAttributes> head = store_->Head(container_, up);
    if (head.ok()) return FailedPreconditionError(what + ": " + up + " is a file");
    if (head.status().code() != StatusCode::kNotFound) return head.status().WithContext(what);
  }
  return store_->Put(container_, DirectoryPrefix(p), http::RequestBody::FromBytes(""), {})
      .status()
      .WithContext(what);
}

Status ObjectFileSystem::Delete(std::string_view path, const DeleteOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(std::string p, NormalizePath(path));
  const std::string what = "delete " + Describe(p);
  CAIRN_ASSIGN_OR_RETURN(FileStatus status, StatNormalized(p));
  if (!status.is_directory()) {
    CAIRN_RETURN_IF_ERROR(store_->Delete(container_, p));
    return KeepDirectory(ParentPath(p)).WithContext(what);
  }
  if (!options.recursive) {
    CAIRN_ASSIGN_OR_RETURN(bool has_entries, HasEntries(p));
    if (has_entries) return FailedPreconditionError(what + ": the directory is not empty");
    if (!p.empty()) CAIRN_RETURN_IF_ERROR(store_->Delete(container_, DirectoryPrefix(p)));
  } else {
    CAIRN_RETURN_IF_ERROR(DeleteDirectoryContents(p).WithContext(what));
  }
  if (p.empty()) return Status();
  return KeepDirectory(ParentPath(p)).WithContext(what);
}

Status ObjectFileSystem::DeleteDirectoryContents(const std::string& dir) {
  const bool per_object = PerObjectMoves();
  const int batch = std::clamp(store_->limits().max_delete_batch, 1, kListPage);
  ListOptions options{
      .prefix = DirectoryPrefix(dir), .delimiter = "", .marker = "", .max_keys = batch};
  TaskGroup group(pool_.get());
  // Each page is deleted on the pool while the next one is listed; Add blocks when the pool's
  // queue is full, which bounds the pages held.
  for (;;) {
    Result<ListPage> page = store_->List(container_, options);
    if (!page.ok()) {
      group.Cancel();
      group.Wait().IgnoreError();
      return page.status();
    }
    if (per_object) {
      for (ListedObject& o : page->objects) {
        group.Add([this, key = std::move(o.key)] { return store_->Delete(container_, key); });
      }
    } else if (!page->objects.empty()) {
      std::vector<std::string> keys;
      keys.reserve(page->objects.size());
      for (ListedObject& o : page->objects) keys.push_back(std::move(o.key));
      group.Add([this, keys = std::move(keys)]() -> Status {
        CAIRN_ASSIGN_OR_RETURN(std::vector<DeleteFailure> failures,
                               store_->DeleteMany(container_, keys));
        if (failures.empty()) return Status();
        return Status(failures.front().status.code(),
                      std::to_string(failures.size()) + " objects not deleted, first " +
                          std::string(failures.front().status.message()));
      });
    }
    if (page->next_marker.empty() || group.cancelled()) break;
    options.marker = page->next_marker;
  }
  return group.Wait();
}

Status ObjectFileSystem::Rename(std::string_view source, std::string_view destination) {
  CAIRN_ASSIGN_OR_RETURN(std::string src, NormalizePath(source));
  CAIRN_ASSIGN_OR_RETURN(std::string dst, NormalizePath(destination));
  const std::string what = "rename " + Describe(src) + " to " + Describe(dst);
  if (src.empty()) return InvalidArgumentError(what + ": the root cannot be renamed");
  CAIRN_ASSIGN_OR_RETURN(FileStatus from, StatNormalized(src));
  if (src == dst) return Status();
  if (from.is_directory() && IsSameOrBelow(dst, src)) {
    return InvalidArgumentError(what + ": a directory cannot move into itself");
  }
  std::string target = dst;
  Result<FileStatus> to = StatNormalized(dst);
  if (to.ok()) {
    if (!to->is_directory()) return AlreadyExistsError(what + ": the destination exists");
    target = JoinPath(dst, BaseName(src));
    if (target == src) return Status();
    Result<FileStatus> inner = StatNormalized(target);
    if (inner.ok()) return AlreadyExistsError(what + ": " + Describe(target) + " exists");
    if (inner.status().code() != StatusCode::kNotFound) return inner.status();
  } else if (to.status().code() != StatusCode::kNotFound) {
    return to.status();
  } else if (std::string parent = ParentPath(dst); !parent.empty()) {
    Result<ObjectAttributes> head = store_->Head(container_, parent);
    if (head.ok()) return FailedPreconditionError(what + ": " + parent + " is a file");
  }
  if (from.is_directory()) {
    CAIRN_RETURN_IF_ERROR(RenameDirectory(src, target).WithContext(what));
  } else {
    CAIRN_RETURN_IF_ERROR(store_->Rename(container_, src, container_, target).status());
  }
  return KeepDirectory(ParentPath(src)).WithContext(what);
}

Status ObjectFileSystem::RenameDirectory(const std::string& source,
                                         const std::string& destination) {
  const std::string from = DirectoryPrefix(source);
  const std::string to = DirectoryPrefix(destination);
  const bool per_object = PerObjectMoves();
  const size_t delete_batch =
      static_cast<size_t>(std::clamp(store_->limits().max_delete_batch, 1, kListPage));
  // The sources of one listing page; deleted in bulk once all of them are copied.
  struct Batch {
    std::vector<std::string> keys;
    std::atomic<size_t> copied{0};
  };
  std::deque<std::unique_ptr<Batch>> pending;
  TaskGroup group(pool_.get());
  auto delete_batch_task = [this](std::vector<std::string> keys) {
    return [this, keys = std::move(keys)]() -> Status {
      CAIRN_ASSIGN_OR_RETURN(std::vector<DeleteFailure> failures,
                             store_->DeleteMany(container_, keys));
      if (failures.empty()) return Status();
      return Status(failures.front().status.code(),
                    std::to_string(failures.size()) + " sources not deleted, first " +
                        std::string(failures.front().status.message()));
    };
  };
  // Deletes the sources of every leading batch whose copies are all done.
  auto flush = [&](bool all_done) {
    while (!pending.empty() &&
           (all_done || pending.front()->copied.load() == pending.front()->keys.size())) {
      for (size_t i = 0; i < pending.front()->keys.size(); i += delete_batch) {
        auto first = pending.front()->keys.begin() + static_cast<std::ptrdiff_t>(i);
        auto last =
            pending.front()->keys.begin() +
            static_cast<std::ptrdiff_t>(std::min(i + delete_batch, pending.front()->keys.size()));
        group.Add(delete_batch_task(std::vector<std::string>(first, last)));
      }
      pending.pop_front();
    }
  };
  ListOptions options{.prefix = from, .delimiter = "", .marker = "", .max_keys = kListPage};
  for (;;) {
    Result<ListPage> page = store_->List(container_, options);
    if (!page.ok()) {
      group.Cancel();
      group.Wait().IgnoreError();
      return page.status();
    }
    if (per_object) {
      for (ListedObject& o : page->objects) {
        std::string new_key = to + o.key.substr(from.size());
        group.Add([this, key = std::move(o.key), new_key = std::move(new_key)] {
          return store_->Rename(container_, key, container_, new_key).status();
        });
      }
    } else {
      auto batch = std::make_unique<Batch>();
      batch->keys.reserve(page->objects.size());
      for (ListedObject& o : page->objects) batch->keys.push_back(std::move(o.key));
      // The tasks refer to the batch's keys, which stay put until every copy is done.
      for (const std::string& key : batch->keys) {
        group.Add([this, &key, new_key = to + key.substr(from.size()),
                   counter = &batch->copied]() -> Status {
          CAIRN_RETURN_IF_ERROR(store_->Copy(container_, key, container_, new_key).status());
          counter->fetch_add(1);
          return Status();
        });
      }
      pending.push_back(std::move(batch));
      flush(false);
    }
    if (page->next_marker.empty() || group.cancelled()) break;
    options.marker = page->next_marker;
  }
  // Every copy must be done before the remaining sources go.
  CAIRN_RETURN_IF_ERROR(group.Wait());
  if (per_object) return Status();
  flush(true);
  return group.Wait();
}

}  // namespace cairn::objstore::fs
