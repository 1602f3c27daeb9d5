// Catalog: collections (with every version kept) and permissions.
#include <unordered_set>
#include <utility>

#include "cairn/manifest/manifest.h"
#include "cairn/manifest/pdh.h"
#include "cairn/metadata/catalog.h"
#include "cairn/metadata/ids.h"

namespace cairn::metadata {
namespace {

using sql::Rows;
using sql::Transaction;
using sql::TransactionMode;
using sql::Value;

// Optimistic updates that lost a race are redone this many times.
constexpr int kUpdateAttempts = 8;

constexpr char kCollectionColumns[] =
    "c.uuid, c.owner_uuid, c.current_version, c.name, c.portable_data_hash, c.properties, "
    "c.replication_desired, c.file_count, c.file_size_total, c.created_at, c.modified_at, "
    "c.modified_by_user_uuid, c.is_trashed, c.trash_at";

Collection CollectionFromRow(const sql::Row& r) {
  Collection c;
  c.uuid = r[0].text();
  c.owner_uuid = r[1].text();
  c.version = r[2].int64();
  c.name = r[3].text();
  c.portable_data_hash = r[4].text();
  c.properties = r[5].text();
  c.replication_desired = r[6].optional_int64();
  c.file_count = r[7].int64();
  c.file_size_total = r[8].int64();
  c.created_at = r[9].int64();
  c.modified_at = r[10].int64();
  c.modified_by_user_uuid = r[11].text();
  c.is_trashed = r[12].int64() != 0;
  c.trash_at = r[13].optional_int64();
  return c;
}

Permission PermissionFromRow(const sql::Row& r) {
  return Permission{.uuid = r[0].text(),
                    .target_uuid = r[1].text(),
                    .user_uuid = r[2].text(),
                    .level = static_cast<AccessLevel>(r[3].int64()),
                    .created_at = r[4].int64()};
}

// `<32 hex>+<size>`: a portable data hash.
bool LooksLikePdh(std::string_view id) {
  if (id.size() < 34 || id[32] != '+') return false;
  for (size_t i = 0; i < 32; ++i) {
    char c = id[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  for (size_t i = 33; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9') return false;
  }
  return true;
}

Status NotFound(std::string_view id) {
  return NotFoundError("collection " + std::string(id) + ": not found");
}

}  // namespace

Result<AccessLevel> Catalog::LevelOf(Transaction& tx, const Caller& caller,
                                     std::string_view owner_uuid,
                                     std::string_view collection_uuid) {
  if (caller.user.is_admin || owner_uuid == caller.user.uuid) return AccessLevel::kManage;
  CAIRN_ASSIGN_OR_RETURN(
      Rows rows, tx.Query("SELECT level FROM permissions WHERE target_uuid = ? AND user_uuid = ?",
                          {collection_uuid, caller.user.uuid}));
  if (rows.empty()) return AccessLevel::kNone;
  return static_cast<AccessLevel>(rows[0][0].int64());
}

Result<std::pair<Collection, AccessLevel>> Catalog::LoadForCaller(Transaction& tx,
                                                                  const Caller& caller,
                                                                  std::string_view uuid,
                                                                  bool include_trash) {
  if (!IsUuidOfType(uuid, kCollectionType)) return NotFound(uuid);
  CAIRN_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kCollectionColumns +
                                                 " FROM collections c WHERE c.uuid = ?",
                                             {uuid}));
  if (rows.empty()) return NotFound(uuid);
  Collection c = CollectionFromRow(rows[0]);
  CAIRN_ASSIGN_OR_RETURN(AccessLevel level, LevelOf(tx, caller, c.owner_uuid, c.uuid));
  if (level < AccessLevel::kRead || (c.is_trashed && !include_trash)) return NotFound(uuid);
  return std::make_pair(std::move(c), level);
}

Result<std::string> Catalog::LoadManifest(Transaction& tx, std::string_view uuid, int64_t version) {
  CAIRN_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT manifest_text FROM collection_versions "
                                             "WHERE collection_uuid = ? AND version = ?",
                                             {uuid, version}));
  if (rows.empty()) {
    return NotFoundError("collection " + std::string(uuid) + " version " + std::to_string(version) +
                         ": not found");
  }
  return rows[0][0].text();
}

Result<Catalog::SavedManifest> Catalog::PrepareManifest(const Caller& caller, std::string_view text,
                                                        std::string_view held_manifest) {
  Result<manifest::Manifest> parsed = manifest::Manifest::Parse(text);
  if (!parsed.ok()) {
    return FailedPreconditionError("manifest_text: " + std::string(parsed.status().message()));
  }
  std::unordered_set<std::string> held;
  if (!held_manifest.empty()) {
    CAIRN_ASSIGN_OR_RETURN(manifest::Manifest old, manifest::Manifest::Parse(held_manifest));
    for (const manifest::Locator& l : old.blocks()) held.insert(l.SizedDigest());
  }
  CAIRN_RETURN_IF_ERROR(CheckManifestSignatures(
      *parsed, options_.signing, caller.token, options_.env->NowUnixSeconds(),
      [&](const manifest::Locator& l) { return held.contains(l.SizedDigest()); }));
  CAIRN_RETURN_IF_ERROR(CheckExternalAccess(
      caller, *parsed, [&](const manifest::Locator& l) { return held.contains(l.SizedDigest()); }));
  SavedManifest saved;
  CAIRN_ASSIGN_OR_RETURN(saved.text, StripSignatures(*parsed));
  saved.pdh = manifest::PortableDataHash(saved.text);
  saved.file_count = static_cast<int64_t>(parsed->file_count());
  saved.file_size_total = static_cast<int64_t>(parsed->total_file_size());
  return saved;
}

Result<Collection> Catalog::CreateCollection(const Caller& caller, const CollectionFields& fields) {
  if (!fields.manifest_text) return InvalidArgumentError("manifest_text is required");
  CAIRN_ASSIGN_OR_RETURN(SavedManifest m, PrepareManifest(caller, *fields.manifest_text, ""));
  Collection c;
  c.uuid = NewUuid(options_.cluster_id, kCollectionType);
  c.portable_data_hash = m.pdh;
  c.name = fields.name.value_or("");
  c.owner_uuid = caller.user.uuid;
  c.properties = fields.properties.value_or("{}");
  c.version = 1;
  c.replication_desired = fields.replication_desired;
  c.file_count = m.file_count;
  c.file_size_total = m.file_size_total;
  c.created_at = c.modified_at = NowMicros();
  c.modified_by_user_uuid = caller.user.uuid;
  Status done = db_->RunInTransaction(TransactionMode::kWrite, [&](Transaction& tx) {
    CAIRN_RETURN_IF_ERROR(tx.Execute(
        "INSERT INTO collections (uuid, owner_uuid, current_version, name, portable_data_hash, "
        "properties, replication_desired, file_count, file_size_total, created_at, modified_at, "
        "modified_by_user_uuid, is_trashed, trash_at) "
        "VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, NULL)",
        {c.uuid, c.owner_uuid, c.name, c.portable_data_hash, c.properties, c.replication_desired,
         c.file_count, c.file_size_total, c.created_at, c.modified_at, c.modified_by_user_uuid}));
    return tx
        .Execute(
            "INSERT INTO collection_versions (collection_uuid, version, name, "
            "portable_data_hash, manifest_text, properties, replication_desired, file_count, "
            "file_size_total, modified_at, modified_by_user_uuid) "
            "VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            {c.uuid, c.name, c.portable_data_hash, m.text, c.properties, c.replication_desired,
             c.file_count, c.file_size_total, c.modified_at, c.modified_by_user_uuid})
        .status();
  });
  CAIRN_RETURN_IF_ERROR(done);
  int64_t expiry = options_.env->NowUnixSeconds() + options_.signing.ttl_seconds;
  CAIRN_ASSIGN_OR_RETURN(c.manifest_text,
                         SignManifestText(m.text, options_.signing, caller.token, expiry));
  return c;
}

Result<Collection> Catalog::GetCollection(const Caller& caller, std::string_view id,
                                          std::optional<int64_t> version, bool include_trash) {
  Collection c;
  std::string stored;
  Status done = db_->RunInTransaction(TransactionMode::kRead, [&](Transaction& tx) {
    std::string uuid;
    if (IsUuidOfType(id, kCollectionType)) {
      CAIRN_ASSIGN_OR_RETURN(auto loaded, LoadForCaller(tx, caller, id, include_trash));
      c = std::move(loaded.first);
    } else if (LooksLikePdh(id)) {
      if (version) return InvalidArgumentError("version needs a collection uuid, not a PDH");
      // The most recently modified collection with this PDH that the caller can read.
      std::string sql = std::string("SELECT ") + kCollectionColumns +
                        " FROM collections c WHERE c.portable_data_hash = ?";
      std::vector<Value> params = {Value(id)};
      if (!include_trash) sql += " AND c.is_trashed = 0";
      if (!caller.user.is_admin) {
        sql +=
            " AND (c.owner_uuid = ? OR c.uuid IN (SELECT target_uuid FROM permissions WHERE "
            "user_uuid = ?))";
        params.emplace_back(caller.user.uuid);
        params.emplace_back(caller.user.uuid);
      }
      sql += " ORDER BY c.modified_at DESC, c.uuid LIMIT 1";
      CAIRN_ASSIGN_OR_RETURN(Rows rows, tx.Query(sql, params));
      if (rows.empty()) return NotFound(id);
      c = CollectionFromRow(rows[0]);
    } else {
      return NotFound(id);
    }
    if (version && *version != c.version) {
      CAIRN_ASSIGN_OR_RETURN(
          Rows rows, tx.Query("SELECT name, portable_data_hash, properties, replication_desired, "
                              "file_count, file_size_total, modified_at, modified_by_user_uuid "
                              "FROM collection_versions WHERE collection_uuid = ? AND version = ?",
                              {c.uuid, *version}));
      if (rows.empty()) {
        return NotFoundError("collection " + c.uuid + " version " + std::to_string(*version) +
                             ": not found");
      }
      const sql::Row& r = rows[0];
      c.version = *version;
      c.name = r[0].text();
      c.portable_data_hash = r[1].text();
      c.properties = r[2].text();
      c.replication_desired = r[3].optional_int64();
      c.file_count = r[4].int64();
      c.file_size_total = r[5].int64();
      c.modified_at = r[6].int64();
      c.modified_by_user_uuid = r[7].text();
    }
    CAIRN_ASSIGN_OR_RETURN(stored, LoadManifest(tx, c.uuid, c.version));
    return Status::OK();
  });
  CAIRN_RETURN_IF_ERROR(done);
  int64_t expiry = options_.env->NowUnixSeconds() + options_.signing.ttl_seconds;
  CAIRN_ASSIGN_OR_RETURN(c.manifest_text,
                         SignManifestText(stored, options_.signing, caller.token, expiry));
  return c;
}

Result<Collection> Catalog::UpdateCollection(const Caller& caller, std::string_view uuid,
                                             const CollectionFields& fields) {
  for (int attempt = 0;; ++attempt) {
    // Read the current state, then check the new manifest outside any transaction (parsing and
    // verifying a large manifest takes a while), then write if nobody changed it meanwhile.
    Collection current;
    std::string held;
    Status done = db_->RunInTransaction(TransactionMode::kRead, [&](Transaction& tx) {
      CAIRN_ASSIGN_OR_RETURN(auto loaded, LoadForCaller(tx, caller, uuid, false));
      if (loaded.second < AccessLevel::kWrite) {
        return PermissionDeniedError("collection " + std::string(uuid) + ": no write permission");
      }
      current = std::move(loaded.first);
      if (fields.manifest_text) {
        CAIRN_ASSIGN_OR_RETURN(held, LoadManifest(tx, current.uuid, current.version));
      }
      return Status::OK();
    });
    CAIRN_RETURN_IF_ERROR(done);
    std::optional<SavedManifest> m;
    if (fields.manifest_text) {
      CAIRN_ASSIGN_OR_RETURN(m, PrepareManifest(caller, *fields.manifest_text, held));
    }
    Collection next = current;
    next.version = current.version + 1;
    if (fields.name) next.name = *fields.name;
    if (fields.properties) next.properties = *fields.properties;
    if (fields.replication_desired) next.replication_desired = fields.replication_desired;
    if (m) {
      next.portable_data_hash = m->pdh;
      next.file_count = m->file_count;
      next.file_size_total = m->file_size_total;
    }
    next.modified_at = NowMicros();
    next.modified_by_user_uuid = caller.user.uuid;
    bool raced = false;
    Status s = db_->RunInTransaction(TransactionMode::kWrite, [&](Transaction& tx) {
      raced = false;
      CAIRN_ASSIGN_OR_RETURN(
          int64_t changed,
          tx.Execute("UPDATE collections SET current_version = ?, name = ?, "
                     "portable_data_hash = ?, properties = ?, replication_desired = ?, "
                     "file_count = ?, file_size_total = ?, modified_at = ?, "
                     "modified_by_user_uuid = ? WHERE uuid = ? AND current_version = ? "
                     "AND is_trashed = 0",
                     {next.version, next.name, next.portable_data_hash, next.properties,
                      next.replication_desired, next.file_count, next.file_size_total,
                      next.modified_at, next.modified_by_user_uuid, next.uuid, current.version}));
      if (changed == 0) {
        // Another writer made a version since we read: start over from the new state.
        raced = true;  // not kAborted: RunInTransaction would retry with the stale version
        return FailedPreconditionError("collection " + next.uuid + " changed meanwhile");
      }
      if (m) {
        return tx
            .Execute(
                "INSERT INTO collection_versions (collection_uuid, version, name, "
                "portable_data_hash, manifest_text, properties, replication_desired, "
                "file_count, file_size_total, modified_at, modified_by_user_uuid) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                {next.uuid, next.version, next.name, next.portable_data_hash, m->text,
                 next.properties, next.replication_desired, next.file_count, next.file_size_total,
                 next.modified_at, next.modified_by_user_uuid})
            .status();
      }
      // The manifest is unchanged: the database copies it from the previous version.
      return tx
          .Execute(
              "INSERT INTO collection_versions (collection_uuid, version, name, "
              "portable_data_hash, manifest_text, properties, replication_desired, "
              "file_count, file_size_total, modified_at, modified_by_user_uuid) "
              "SELECT collection_uuid, ?, ?, portable_data_hash, manifest_text, ?, ?, "
              "file_count, file_size_total, ?, ? FROM collection_versions "
              "WHERE collection_uuid = ? AND version = ?",
              {next.version, next.name, next.properties, next.replication_desired, next.modified_at,
               next.modified_by_user_uuid, next.uuid, current.version})
          .status();
    });
    if (raced) {
      if (attempt + 1 < kUpdateAttempts) continue;
      return AbortedError("collection " + next.uuid + ": too many concurrent updates, try again");
    }
    CAIRN_RETURN_IF_ERROR(s);
    return GetCollection(caller, next.uuid, next.version, false);
  }
}

Result<std::vector<CollectionVersion>> Catalog::ListVersions(const Caller& caller,
                                                             std::string_view uuid) {
  std::vector<CollectionVersion> versions;
  Status done = db_->RunInTransaction(TransactionMode::kRead, [&](Transaction& tx) {
    CAIRN_ASSIGN_OR_RETURN(auto loaded, LoadForCaller(tx, caller, uuid, false));
    CAIRN_ASSIGN_OR_RETURN(Rows rows,
                           tx.Query("SELECT version, portable_data_hash, modified_at, "
                                    "modified_by_user_uuid, name FROM collection_versions "
                                    "WHERE collection_uuid = ? ORDER BY version",
                                    {loaded.first.uuid}));
    versions.clear();
    for (const sql::Row& r : rows.rows) {
      versions.push_back(CollectionVersion{.version = r[0].int64(),
                                           .portable_data_hash = r[1].text(),
                                           .modified_at = r[2].int64(),
                                           .modified_by_user_uuid = r[3].text(),
                                           .name = r[4].text()});
    }
    return Status::OK();
  });
  CAIRN_RETURN_IF_ERROR(done);
  return versions;
}

Result<Page<Collection>> Catalog::ListCollections(const Caller& caller,
                                                  const CollectionFilter& filter) {
  std::string where = " WHERE 1 = 1";
  std::vector<Value> params;
  const std::string& me = caller.user.uuid;
  constexpr char kGranted[] = "c.uuid IN (SELECT target_uuid FROM permissions WHERE user_uuid = ?)";
  switch (filter.scope) {
    case CollectionScope::kOwned:
      where += " AND c.owner_uuid = ?";
      params.emplace_back(me);
      break;
    case CollectionScope::kShared:
      where += std::string(" AND c.owner_uuid <> ? AND ") + kGranted;
      params.emplace_back(me);
      params.emplace_back(me);
      break;
    case CollectionScope::kAll:
      if (!caller.user.is_admin) {
        where += std::string(" AND (c.owner_uuid = ? OR ") + kGranted + ")";
        params.emplace_back(me);
        params.emplace_back(me);
      }
      break;
  }
  if (!filter.include_trash) where += " AND c.is_trashed = 0";
  if (filter.name) {
    where += " AND c.name = ?";
    params.emplace_back(*filter.name);
  }
  if (filter.owner_uuid) {
    where += " AND c.owner_uuid = ?";
    params.emplace_back(*filter.owner_uuid);
  }
  Page<Collection> page{.items = {},
                        .items_available = 0,
                        .limit = filter.paging.limit,
                        .offset = filter.paging.offset};
  Status done = db_->RunInTransaction(TransactionMode::kRead, [&](Transaction& tx) {
    CAIRN_ASSIGN_OR_RETURN(Rows n, tx.Query("SELECT COUNT(*) FROM collections c" + where, params));
    page.items_available = n[0][0].int64();
    std::vector<Value> paged = params;
    paged.emplace_back(filter.paging.limit);
    paged.emplace_back(filter.paging.offset);
    CAIRN_ASSIGN_OR_RETURN(
        Rows rows, tx.Query(std::string("SELECT ") + kCollectionColumns + " FROM collections c" +
                                where + " ORDER BY c.modified_at DESC, c.uuid LIMIT ? OFFSET ?",
                            paged));
    page.items.clear();
    for (const sql::Row& r : rows.rows) page.items.push_back(CollectionFromRow(r));
    return Status::OK();
  });
  CAIRN_RETURN_IF_ERROR(done);
  return page;
}

Result<Collection> Catalog::SetTrashed(const Caller& caller, std::string_view uuid, bool trashed) {
  Collection c;
  Status done = db_->RunInTransaction(TransactionMode::kWrite, [&](Transaction& tx) {
    // Untrash must find trashed collections; trash finds them too (trashing twice is harmless).
    CAIRN_ASSIGN_OR_RETURN(auto loaded, LoadForCaller(tx, caller, uuid, true));
    if (loaded.second < AccessLevel::kManage) {
      return PermissionDeniedError("collection " + std::string(uuid) + ": no manage permission");
    }
    c = std::move(loaded.first);
    c.is_trashed = trashed;
    c.trash_at = trashed ? std::optional<int64_t>(NowMicros()) : std::nullopt;
    return tx
        .Execute("UPDATE collections SET is_trashed = ?, trash_at = ? WHERE uuid = ?",
                 {trashed ? 1 : 0, c.trash_at, c.uuid})
        .status();
  });
  CAIRN_RETURN_IF_ERROR(done);
  return c;
}

Result<Collection> Catalog::TrashCollection(const Caller& caller, std::string_view uuid) {
  return SetTrashed(caller, uuid, true);
}

Result<Collection> Catalog::UntrashCollection(const Caller& caller, std::string_view uuid) {
  return SetTrashed(caller, uuid, false);
}

// --- Permissions.

Result<Permission> Catalog::Grant(const Caller& caller, std::string_view target_uuid,
                                  std::string_view user, AccessLevel level) {
  if (level == AccessLevel::kNone) return InvalidArgumentError("level must be given");
  Permission p;
  Status done = db_->RunInTransaction(TransactionMode::kWrite, [&](Transaction& tx) {
    CAIRN_ASSIGN_OR_RETURN(auto loaded, LoadForCaller(tx, caller, target_uuid, true));
    if (loaded.second < AccessLevel::kManage) {
      return PermissionDeniedError("collection " + std::string(target_uuid) +
                                   ": no manage permission");
    }
    CAIRN_ASSIGN_OR_RETURN(Rows u, tx.Query(IsUuidOfType(user, kUserType)
                                                ? "SELECT uuid FROM users WHERE uuid = ?"
                                                : "SELECT uuid FROM users WHERE username = ?",
                                            {user}));
    if (u.empty()) return NotFoundError("user " + std::string(user) + ": not found");
    std::string user_uuid = u[0][0].text();
    CAIRN_ASSIGN_OR_RETURN(Rows existing,
                           tx.Query("SELECT uuid, target_uuid, user_uuid, level, created_at FROM "
                                    "permissions WHERE target_uuid = ? AND user_uuid = ?",
                                    {loaded.first.uuid, user_uuid}));
    if (!existing.empty()) {
      p = PermissionFromRow(existing[0]);
      p.level = level;
      return tx
          .Execute("UPDATE permissions SET level = ? WHERE uuid = ?",
                   {static_cast<int>(level), p.uuid})
          .status();
    }
    p = Permission{.uuid = NewUuid(options_.cluster_id, kPermissionType),
                   .target_uuid = loaded.first.uuid,
                   .user_uuid = user_uuid,
                   .level = level,
                   .created_at = NowMicros()};
    return tx
        .Execute(
            "INSERT INTO permissions (uuid, target_uuid, user_uuid, level, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            {p.uuid, p.target_uuid, p.user_uuid, static_cast<int>(level), p.created_at})
        .status();
  });
  CAIRN_RETURN_IF_ERROR(done);
  return p;
}

Result<Page<Permission>> Catalog::ListPermissions(const Caller& caller,
                                                  std::string_view target_uuid,
                                                  const Paging& paging) {
  Page<Permission> page{
      .items = {}, .items_available = 0, .limit = paging.limit, .offset = paging.offset};
  Status done = db_->RunInTransaction(TransactionMode::kRead, [&](Transaction& tx) {
    CAIRN_ASSIGN_OR_RETURN(auto loaded, LoadForCaller(tx, caller, target_uuid, true));
    if (loaded.second < AccessLevel::kManage) {
      return PermissionDeniedError("collection " + std::string(target_uuid) +
                                   ": no manage permission");
    }
    CAIRN_ASSIGN_OR_RETURN(
        Rows n, tx.Query("SELECT COUNT(*) FROM permissions WHERE target_uuid = ?", {target_uuid}));
    page.items_available = n[0][0].int64();
    CAIRN_ASSIGN_OR_RETURN(Rows rows,
                           tx.Query("SELECT uuid, target_uuid, user_uuid, level, created_at FROM "
                                    "permissions WHERE target_uuid = ? ORDER BY created_at, uuid "
                                    "LIMIT ? OFFSET ?",
                                    {target_uuid, paging.limit, paging.offset}));
    page.items.clear();
    for (const sql::Row& r : rows.rows) page.items.push_back(PermissionFromRow(r));
    return Status::OK();
  });
  CAIRN_RETURN_IF_ERROR(done);
  return page;
}

Result<Permission> Catalog::RevokePermission(const Caller& caller, std::string_view uuid) {
  Permission p;
  Status done = db_->RunInTransaction(TransactionMode::kWrite, [&](Transaction& tx) {
    CAIRN_ASSIGN_OR_RETURN(Rows rows,
                           tx.Query("SELECT uuid, target_uuid, user_uuid, level, created_at FROM "
                                    "permissions WHERE uuid = ?",
                                    {uuid}));
    Status not_found = NotFoundError("permission " + std::string(uuid) + ": not found");
    if (rows.empty()) return not_found;
    p = PermissionFromRow(rows[0]);
    Result<std::pair<Collection, AccessLevel>> loaded =
        LoadForCaller(tx, caller, p.target_uuid, true);
    if (loaded.status().code() == StatusCode::kNotFound) return not_found;
    CAIRN_RETURN_IF_ERROR(loaded.status());
    if (loaded->second < AccessLevel::kManage) {
      return PermissionDeniedError("permission " + std::string(uuid) +
                                   ": no manage permission on its collection");
    }
    return tx.Execute("DELETE FROM permissions WHERE uuid = ?", {uuid}).status();
  });
  CAIRN_RETURN_IF_ERROR(done);
  return p;
}

}  // namespace cairn::metadata
