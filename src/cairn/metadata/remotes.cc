// Catalog: remotes (remotes.h) — adding, listing and removing them, the gateway's credential
// look-up, and the check that a saved manifest names only buckets the caller may use.
#include "cairn/metadata/remotes.h"

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cairn/manifest/external.h"
#include "cairn/manifest/signature.h"
#include "cairn/metadata/catalog.h"
#include "cairn/metadata/ids.h"

namespace cairn::metadata {
namespace {

using sql::Rows;
using sql::Transaction;
using sql::TransactionMode;

constexpr char kRemoteColumns[] = "name, uuid, kind, endpoint, region, owner_uuid, created_at";

Remote RemoteFromRow(const sql::Row& r) {
  return Remote{.uuid = r[1].text(),
                .name = r[0].text(),
                .kind = r[2].text(),
                .endpoint = r[3].text(),
                .region = r[4].text(),
                .buckets = {},
                .owner_uuid = r[5].text(),
                .created_at = r[6].int64()};
}

Status LoadBuckets(Transaction& tx, Remote& remote) {
  CAIRN_ASSIGN_OR_RETURN(
      Rows rows, tx.Query("SELECT bucket FROM remote_buckets WHERE remote_name = ? ORDER BY bucket",
                          {remote.name}));
  remote.buckets.clear();
  for (const sql::Row& r : rows.rows) remote.buckets.push_back(r[0].text());
  return Status::OK();
}

// The remote `name` if the caller may see it; kNotFound otherwise (it cannot tell it exists).
Result<Remote> LoadRemote(Transaction& tx, const Caller& caller, std::string_view name) {
  CAIRN_ASSIGN_OR_RETURN(
      Rows rows,
      tx.Query(std::string("SELECT ") + kRemoteColumns + " FROM remotes WHERE name = ?", {name}));
  if (rows.empty() || (!caller.user.is_admin && rows[0][5].text() != caller.user.uuid)) {
    return NotFoundError("no remote named " + std::string(name.substr(0, 80)));
  }
  Remote remote = RemoteFromRow(rows[0]);
  CAIRN_RETURN_IF_ERROR(LoadBuckets(tx, remote));
  return remote;
}

std::string_view KindName(manifest::ObjectStoreKind kind) {
  return kind == manifest::ObjectStoreKind::kS3 ? "s3" : "swift";
}

}  // namespace

Result<Remote> Catalog::AddRemote(const Caller& caller, const NewRemote& remote) {
  CAIRN_RETURN_IF_ERROR(ValidateNewRemote(remote));
  std::set<std::string> buckets(remote.buckets.begin(), remote.buckets.end());
  CAIRN_ASSIGN_OR_RETURN(std::string sealed,
                         SealCredentials(remote.credentials, remote.name, options_.signing.key));
  Remote added{.uuid = NewUuid(options_.cluster_id, kRemoteType),
               .name = remote.name,
               .kind = remote.kind,
               .endpoint = remote.endpoint,
               .region = remote.region,
               .buckets = std::vector<std::string>(buckets.begin(), buckets.end()),
               .owner_uuid = caller.user.uuid,
               .created_at = NowMicros()};
  std::string taken_bucket;
  Status s = db_->RunInTransaction(TransactionMode::kWrite, [&](Transaction& tx) {
    taken_bucket.clear();
    CAIRN_ASSIGN_OR_RETURN(Rows existing,
                           tx.Query("SELECT 1 FROM remotes WHERE name = ?", {added.name}));
    if (!existing.empty()) return AlreadyExistsError("remote name " + added.name + " is taken");
    for (const std::string& b : added.buckets) {
      CAIRN_ASSIGN_OR_RETURN(
          Rows held,
          tx.Query("SELECT 1 FROM remote_buckets WHERE kind = ? AND bucket = ?", {added.kind, b}));
      if (!held.empty()) {
        taken_bucket = b;
        return AlreadyExistsError("bucket " + b + " already belongs to a remote");
      }
    }
    CAIRN_RETURN_IF_ERROR(
        tx.Execute("INSERT INTO remotes (name, uuid, kind, endpoint, region, owner_uuid, "
                   "credentials_sealed, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   {added.name, added.uuid, added.kind, added.endpoint, added.region,
                    added.owner_uuid, sealed, added.created_at}));
    for (const std::string& b : added.buckets) {
      CAIRN_RETURN_IF_ERROR(
          tx.Execute("INSERT INTO remote_buckets (kind, bucket, remote_name) VALUES (?, ?, ?)",
                     {added.kind, b, added.name}));
    }
    return Status::OK();
  });
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError(taken_bucket.empty()
                                  ? "remote name " + added.name + " is taken"
                                  : "bucket " + taken_bucket + " already belongs to a remote");
  }
  CAIRN_RETURN_IF_ERROR(s);
  return added;
}

Result<std::vector<Remote>> Catalog::ListRemotes(const Caller& caller) {
  std::vector<Remote> remotes;
  Status done = db_->RunInTransaction(TransactionMode::kRead, [&](Transaction& tx) {
    remotes.clear();
    std::string sql = std::string("SELECT ") + kRemoteColumns + " FROM remotes";
    Result<Rows> rows = caller.user.is_admin ? tx.Query(sql + " ORDER BY name")
                                             : tx.Query(sql + " WHERE owner_uuid = ? ORDER BY name",
                                                        {caller.user.uuid});
    CAIRN_RETURN_IF_ERROR(rows.status());
    for (const sql::Row& r : rows->rows) {
      remotes.push_back(RemoteFromRow(r));
      CAIRN_RETURN_IF_ERROR(LoadBuckets(tx, remotes.back()));
    }
    return Status::OK();
  });
  CAIRN_RETURN_IF_ERROR(done);
  return remotes;
}

Result<Remote> Catalog::GetRemote(const Caller& caller, std::string_view name) {
  Remote remote;
  Status done = db_->RunInTransaction(TransactionMode::kRead, [&](Transaction& tx) {
    CAIRN_ASSIGN_OR_RETURN(remote, LoadRemote(tx, caller, name));
    return Status::OK();
  });
  CAIRN_RETURN_IF_ERROR(done);
  return remote;
}

Result<Remote> Catalog::RemoveRemote(const Caller& caller, std::string_view name) {
  Remote remote;
  Status done = db_->RunInTransaction(TransactionMode::kWrite, [&](Transaction& tx) {
    CAIRN_ASSIGN_OR_RETURN(remote, LoadRemote(tx, caller, name));
    CAIRN_RETURN_IF_ERROR(
        tx.Execute("DELETE FROM remote_buckets WHERE remote_name = ?", {remote.name}));
    return tx.Execute("DELETE FROM remotes WHERE name = ?", {remote.name}).status();
  });
  CAIRN_RETURN_IF_ERROR(done);
  return remote;
}

Result<RemoteCredentials> Catalog::RemoteCredentialsFor(const Caller& caller,
                                                        std::string_view name) {
  CAIRN_RETURN_IF_ERROR(RequireAdmin(caller, "read a remote's credentials"));
  CAIRN_ASSIGN_OR_RETURN(
      Rows rows, db_->Query("SELECT credentials_sealed FROM remotes WHERE name = ?", {name}));
  if (rows.empty()) return NotFoundError("no remote named " + std::string(name.substr(0, 80)));
  return OpenCredentials(rows[0][0].text(), name, options_.signing.key);
}

Result<std::pair<Remote, RemoteCredentials>> Catalog::GatewayRemoteForBucket(
    std::string_view kind, std::string_view bucket) {
  std::pair<Remote, RemoteCredentials> found;
  std::string sealed;
  Status done = db_->RunInTransaction(TransactionMode::kRead, [&](Transaction& tx) {
    CAIRN_ASSIGN_OR_RETURN(
        Rows rows, tx.Query("SELECT r.name, r.uuid, r.kind, r.endpoint, r.region, r.owner_uuid, "
                            "r.created_at, r.credentials_sealed FROM remote_buckets b JOIN "
                            "remotes r ON r.name = b.remote_name WHERE b.kind = ? AND b.bucket = ?",
                            {kind, bucket}));
    if (rows.empty()) {
      return NotFoundError("no remote holds " + std::string(kind) + " bucket " +
                           std::string(bucket.substr(0, 255)));
    }
    found.first = RemoteFromRow(rows[0]);
    sealed = rows[0][7].text();
    return LoadBuckets(tx, found.first);
  });
  CAIRN_RETURN_IF_ERROR(done);
  CAIRN_ASSIGN_OR_RETURN(found.second,
                         OpenCredentials(sealed, found.first.name, options_.signing.key));
  return found;
}

Status Catalog::CheckExternalAccess(const Caller& caller, const manifest::Manifest& m,
                                    const std::function<bool(const manifest::Locator&)>& exempt) {
  // The caller's buckets, loaded once and only when the manifest names external objects.
  std::optional<std::set<std::pair<std::string, std::string>>> usable;
  const int64_t now = options_.env->NowUnixSeconds();
  for (const manifest::Locator& l : m.blocks()) {
    if (!l.IsExternal() || exempt(l)) continue;
    // A valid signature proves the caller may read the range (the catalog signed it for them from
    // a collection they can read), so files copied between collections need no remote.
    if (l.FindHint('A') && manifest::VerifySignature(l, options_.signing.key, caller.token,
                                                     options_.signing.ttl_seconds, now)
                               .ok()) {
      continue;
    }
    Result<manifest::ExternalRange> range = manifest::DecodeExternal(l);
    if (!range.ok()) {
      return PermissionDeniedError("external locator " + l.SizedDigest() + ": " +
                                   std::string(range.status().message()));
    }
    if (!usable) {
      usable.emplace();
      std::string sql =
          "SELECT b.kind, b.bucket FROM remote_buckets b JOIN remotes r ON r.name = b.remote_name";
      Result<Rows> rows = caller.user.is_admin
                              ? db_->Query(sql)
                              : db_->Query(sql + " WHERE r.owner_uuid = ?", {caller.user.uuid});
      CAIRN_RETURN_IF_ERROR(rows.status());
      for (const sql::Row& r : rows->rows) usable->emplace(r[0].text(), r[1].text());
    }
    const manifest::ExternalObject& object = range->object;
    if (!usable->contains({std::string(KindName(object.kind)), object.bucket})) {
      return PermissionDeniedError(
          "external locator " + l.SizedDigest() + " names " + std::string(KindName(object.kind)) +
          " bucket " + object.bucket.substr(0, 255) + ", which is not in a remote you may use");
    }
  }
  return Status::OK();
}

}  // namespace cairn::metadata
