// The WriteLayer's changes of a collection's tree (unlink, mkdir, rmdir, rename: each saved as a
// new version at once) and ClientCollectionStore; see writable.h.
#include <algorithm>

#include "cairn/manifest/tree_copy.h"
#include "cairn/mount/writable.h"

namespace cairn::mount {

using manifest::Manifest;

namespace {

std::pair<std::string_view, std::string_view> SplitPath(std::string_view path) {
  while (path.starts_with('/')) path.remove_prefix(1);
  while (path.ends_with('/')) path.remove_suffix(1);
  size_t slash = path.find('/');
  if (slash == std::string_view::npos) return {path, {}};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

Status NotWritable(std::string_view path) {
  return PermissionDeniedError(std::string(path) + ": read-only (not a collection you own)");
}

}  // namespace

// --- ClientCollectionStore

Result<manifest::Locator> ClientCollectionStore::PutBlock(std::string_view data) {
  int replication;
  {
    std::lock_guard lock(mu_);
    if (replication_ <= 0) {
      CAIRN_ASSIGN_OR_RETURN(int writable, keep_->WritableServiceCount());
      replication_ = std::max(1, std::min(2, writable));  // as `cairn put`
    }
    replication = replication_;
  }
  CAIRN_ASSIGN_OR_RETURN(client::PutResult put, keep_->Put(data, replication));
  return put.locator;
}

Result<client::Collection> ClientCollectionStore::Save(std::string_view uuid,
                                                       const std::string& manifest_text) {
  client::CollectionFields fields;
  fields.manifest_text = manifest_text;
  CAIRN_ASSIGN_OR_RETURN(client::Collection saved, catalog_->UpdateCollection(uuid, fields));
  if (saved.manifest_text.empty() && !manifest_text.empty()) {
    return catalog_->GetCollection(uuid);  // the signed text
  }
  return saved;
}

Result<client::Collection> ClientCollectionStore::Create(std::string_view name) {
  client::CollectionFields fields;
  fields.manifest_text = "";
  fields.name = std::string(name);
  return catalog_->CreateCollection(fields);
}

Status WriteLayer::Unlink(std::string_view path) {
  if (IsStaged(path)) return AbortedError(std::string(path) + ": open for writing");
  CAIRN_ASSIGN_OR_RETURN(Target t, Locate(path));
  if (t.inner.empty()) return NotWritable(path);
  return Modify(t.uuid, [&](Manifest* m) { return m->Remove(t.inner); });
}

Status WriteLayer::Mkdir(std::string_view path) {
  auto [top, rest] = SplitPath(path);
  if (options_.collection_id.empty() && top == "home" && !rest.empty() &&
      rest.find('/') == std::string_view::npos) {
    // A new collection, named as the directory.
    if (tree_->Resolve(path).ok()) return AlreadyExistsError(std::string(path) + " exists");
    CAIRN_ASSIGN_OR_RETURN(client::Collection created, store_->Create(rest));
    return tree_->Saved(std::move(created));
  }
  CAIRN_ASSIGN_OR_RETURN(Target t, Locate(path));
  if (t.inner.empty()) return AlreadyExistsError(std::string(path) + " exists");
  return Modify(t.uuid, [&](Manifest* m) -> Status {
    if (m->Find(t.inner)) return AlreadyExistsError(std::string(path) + " exists");
    return m->MakeDirectories(t.inner).status();
  });
}

Status WriteLayer::Rmdir(std::string_view path) {
  CAIRN_ASSIGN_OR_RETURN(Target t, Locate(path));
  if (t.inner.empty()) return NotWritable(path);  // collections are not deleted through the mount
  {
    std::lock_guard lock(mu_);
    std::string prefix = std::string(path) + "/";
    auto it = staged_.lower_bound(prefix);
    if (it != staged_.end() && it->first.starts_with(prefix)) {
      return FailedPreconditionError(std::string(path) + ": not empty");
    }
  }
  return Modify(t.uuid, [&](Manifest* m) -> Status {
    std::optional<Manifest::NodeId> dir = m->Find(t.inner);
    if (!dir) return NotFoundError(std::string(path) + ": no such directory");
    if (!m->IsDirectory(*dir)) return InvalidArgumentError(std::string(path) + ": not a directory");
    if (!m->Children(*dir).empty())
      return FailedPreconditionError(std::string(path) + ": not empty");
    return m->Remove(t.inner);
  });
}

Status WriteLayer::Rename(std::string_view from, std::string_view to) {
  if (IsStaged(from) || IsStaged(to)) {
    return AbortedError(std::string(from) + " or " + std::string(to) + ": open for writing");
  }
  CAIRN_ASSIGN_OR_RETURN(Target src, Locate(from));
  CAIRN_ASSIGN_OR_RETURN(Target dst, Locate(to));
  if (src.inner.empty() || dst.inner.empty()) return NotWritable(from);
  // Makes room at the destination as rename(2) does: a file or an empty directory is replaced.
  auto clear = [&](Manifest* m, bool source_is_dir) -> Status {
    std::optional<Manifest::NodeId> old = m->Find(dst.inner);
    if (!old) return Status();
    if (m->IsDirectory(*old) != source_is_dir) {
      return InvalidArgumentError(std::string(to) + ": a file and a directory");
    }
    if (source_is_dir && !m->Children(*old).empty()) {
      return FailedPreconditionError(std::string(to) + ": not empty");
    }
    return m->Remove(dst.inner);
  };
  if (src.uuid == dst.uuid) {
    return Modify(src.uuid, [&](Manifest* m) -> Status {
      std::optional<Manifest::NodeId> node = m->Find(src.inner);
      if (!node) return NotFoundError(std::string(from) + ": not found");
      if (src.inner == dst.inner) return Status();
      const Manifest before = *m;
      CAIRN_RETURN_IF_ERROR(clear(m, m->IsDirectory(*node)));
      CAIRN_RETURN_IF_ERROR(manifest::CopyTree(before, src.inner, m, dst.inner).status());
      return m->Remove(src.inner);
    });
  }
  // Across collections: the copy is saved first, then the removal (a failure in between leaves
  // both copies, never none).
  CAIRN_ASSIGN_OR_RETURN(client::Collection source, collections_->Get(src.uuid));
  CAIRN_ASSIGN_OR_RETURN(Manifest from_manifest, Manifest::Parse(source.manifest_text));
  std::optional<Manifest::NodeId> node = from_manifest.Find(src.inner);
  if (!node) return NotFoundError(std::string(from) + ": not found");
  const bool is_dir = from_manifest.IsDirectory(*node);
  Status copied = Modify(dst.uuid, [&](Manifest* m) -> Status {
    CAIRN_RETURN_IF_ERROR(clear(m, is_dir));
    return manifest::CopyTree(from_manifest, src.inner, m, dst.inner).status();
  });
  CAIRN_RETURN_IF_ERROR(copied);
  return Modify(src.uuid, [&](Manifest* m) { return m->Remove(src.inner); });
}

}  // namespace cairn::mount
