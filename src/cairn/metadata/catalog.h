// Catalog: the metadata service's logic (DESIGN.md §4, docs/catalog-api.md) over an
// sql::Database — users, API tokens, collections with every version kept, permissions and the
// keep service registry. The HTTP handlers (api_handler.h) are a thin JSON layer over it, and
// `cairn server` calls Authenticate directly to check tokens for its in-process keepstore.
//
// Access rules: a collection's owner has manage; manage ⊃ write ⊃ read; grants give a user a level
// on one collection; admins may do anything. A caller who cannot read a collection gets
// kNotFound for it (it cannot tell that it exists); one who can read it but lacks the level an
// operation needs gets kPermissionDenied.
//
// Errors: kUnauthenticated (token missing, unknown, expired or revoked), kPermissionDenied,
// kNotFound, kInvalidArgument (a field), kFailedPrecondition (an invalid manifest: the parser's
// message), kAlreadyExists (a username taken), kUnavailable/kAborted from the database.
//
// Thread safety: thread-safe; every method may be called concurrently (each runs its own
// transactions). The Catalog does not own the Database, which must outlive it.
#ifndef CAIRN_METADATA_CATALOG_H_
#define CAIRN_METADATA_CATALOG_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cairn/common/result.h"
#include "cairn/common/status.h"
#include "cairn/io/env.h"
#include "cairn/manifest/manifest.h"
#include "cairn/metadata/remotes.h"
#include "cairn/metadata/signing.h"
#include "cairn/sql/database.h"

namespace cairn::metadata {

enum class AccessLevel : int { kNone = 0, kRead = 1, kWrite = 2, kManage = 3 };

// "read", "write", "manage" ("none" for kNone).
std::string_view AccessLevelName(AccessLevel level);
Result<AccessLevel> ParseAccessLevel(std::string_view name);

// Times are Unix microseconds.
struct User {
  std::string uuid;
  std::string username;
  bool is_admin = false;
  int64_t created_at = 0;
};

// Who is calling: the user and the token presented (kept to sign manifests for this caller;
// never logged).
struct Caller {
  User user;
  std::string token_uuid;
  std::string token;
};

struct ApiToken {
  std::string uuid;
  std::string user_uuid;
  std::optional<int64_t> expires_at;
  int64_t created_at = 0;
  std::string secret;  // the token itself: only in the reply to its creation
};

struct Collection {
  std::string uuid;
  std::string portable_data_hash;
  std::string manifest_text;  // signed for the caller on reads; empty in lists
  std::string name;
  std::string owner_uuid;
  std::string properties = "{}";  // a JSON object, as text
  int64_t version = 0;
  std::optional<int64_t> replication_desired;
  int64_t file_count = 0;
  int64_t file_size_total = 0;
  int64_t created_at = 0;
  int64_t modified_at = 0;
  std::string modified_by_user_uuid;
  bool is_trashed = false;
  std::optional<int64_t> trash_at;
};

struct CollectionVersion {
  int64_t version = 0;
  std::string portable_data_hash;
  int64_t modified_at = 0;
  std::string modified_by_user_uuid;
  std::string name;
};

// A new collection, or the fields a PUT changes (unset: unchanged).
struct CollectionFields {
  std::optional<std::string> manifest_text;
  std::optional<std::string> name;
  std::optional<std::string> properties;  // a JSON object, as text
  std::optional<int64_t> replication_desired;
};

enum class CollectionScope { kAll, kOwned, kShared };

struct Paging {
  int64_t limit = 100;  // 1..1000
  int64_t offset = 0;
};

struct CollectionFilter {
  std::optional<std::string> name;
  std::optional<std::string> owner_uuid;
  CollectionScope scope = CollectionScope::kAll;
  bool include_trash = false;
  Paging paging;
};

template <typename T>
struct Page {
  std::vector<T> items;
  int64_t items_available = 0;
  int64_t limit = 0;
  int64_t offset = 0;
};

struct Permission {
  std::string uuid;
  std::string target_uuid;
  std::string user_uuid;
  AccessLevel level = AccessLevel::kNone;
  int64_t created_at = 0;
};

struct KeepService {
  std::string uuid;
  std::string service_host;
  int64_t service_port = 0;
  bool service_ssl_flag = false;
  std::string service_type = "disk";  // disk | gateway | proxy
  bool read_only = false;
  int64_t created_at = 0;
};

struct CatalogOptions {
  std::string cluster_id = "cairn";  // 5 chars [a-z0-9]
  SigningKey signing;                // the blob signing key must not be empty
  io::Env* env = nullptr;            // clock; nullptr: io::Env::Default()
};

// The fields of a new user.
struct NewUser {
  std::string username;
  bool is_admin = false;
};

class Catalog {
 public:
  // Applies the catalog's migrations to `db` and returns the catalog. `db` must outlive it.
  static Result<std::unique_ptr<Catalog>> Open(sql::Database* db, CatalogOptions options);

  const CatalogOptions& options() const { return options_; }

  // On a catalog without users: creates the admin user "admin" and returns a token for it (the
  // only time it is shown). nullopt when users exist already (also when another process won the
  // race to create them).
  Result<std::optional<std::string>> Bootstrap();

  // The caller a token belongs to: one lookup of the token's SHA-256 on a unique index.
  // kUnauthenticated when the token is empty, unknown, revoked or expired.
  Result<Caller> Authenticate(std::string_view token);

  // --- Users.
  Result<User> CreateUser(const Caller& caller, const NewUser& user);  // admins only
  // Everyone sees every user (to share by name); non-admins see only uuid and username.
  Result<Page<User>> ListUsers(const Caller& caller, const Paging& paging);

  // --- Tokens.
  // A token for `user_uuid` (default: the caller; others' only for admins).
  Result<ApiToken> CreateToken(const Caller& caller, std::optional<std::string> user_uuid,
                               std::optional<int64_t> expires_at);
  Result<Page<ApiToken>> ListTokens(const Caller& caller, std::optional<std::string> user_uuid,
                                    const Paging& paging);
  // Revokes `uuid` ("current": the caller's own token). Own tokens, or admin.
  Result<ApiToken> RevokeToken(const Caller& caller, std::string_view uuid);

  // --- Collections.
  Result<Collection> CreateCollection(const Caller& caller, const CollectionFields& fields);
  // By uuid or PDH; `version` only with a uuid. The manifest comes signed for the caller.
  Result<Collection> GetCollection(const Caller& caller, std::string_view uuid_or_pdh,
                                   std::optional<int64_t> version, bool include_trash);
  Result<Collection> UpdateCollection(const Caller& caller, std::string_view uuid,
                                      const CollectionFields& fields);
  Result<std::vector<CollectionVersion>> ListVersions(const Caller& caller, std::string_view uuid);
  Result<Page<Collection>> ListCollections(const Caller& caller, const CollectionFilter& filter);
  Result<Collection> TrashCollection(const Caller& caller, std::string_view uuid);
  Result<Collection> UntrashCollection(const Caller& caller, std::string_view uuid);

  // --- Permissions (manage on the target collection).
  // `user` is a user uuid or username. A second grant to a user replaces the level.
  Result<Permission> Grant(const Caller& caller, std::string_view target_uuid,
                           std::string_view user, AccessLevel level);
  Result<Page<Permission>> ListPermissions(const Caller& caller, std::string_view target_uuid,
                                           const Paging& paging);
  Result<Permission> RevokePermission(const Caller& caller, std::string_view uuid);

  // --- Keep services.
  Result<Page<KeepService>> ListKeepServices(const Caller& caller, const Paging& paging);
  // Admins. Registering a host and port already known returns the existing service.
  Result<KeepService> AddKeepService(const Caller& caller, const KeepService& service);
  Result<KeepService> RemoveKeepService(const Caller& caller, std::string_view uuid);

  // --- Remotes (remotes.h; in remotes.cc). The owner and admins see and use a remote; others get
  // kNotFound. Credentials are sealed at rest and never returned by these methods.
  // kAlreadyExists when the name is taken or a bucket belongs to another remote of the kind.
  Result<Remote> AddRemote(const Caller& caller, const NewRemote& remote);
  Result<std::vector<Remote>> ListRemotes(const Caller& caller);  // own; admins: all
  Result<Remote> GetRemote(const Caller& caller, std::string_view name);
  Result<Remote> RemoveRemote(const Caller& caller, std::string_view name);
  // The credentials of a remote, for a gateway keepstore in another process: admins only.
  Result<RemoteCredentials> RemoteCredentialsFor(const Caller& caller, std::string_view name);
  // For a gateway keepstore in process (no caller: the gateway has checked a +A signature the
  // catalog made): the remote holding `bucket` of `kind` ("s3" | "swift") and its credentials.
  // kNotFound "no remote holds bucket <b>".
  Result<std::pair<Remote, RemoteCredentials>> GatewayRemoteForBucket(std::string_view kind,
                                                                      std::string_view bucket);
  // kPermissionDenied unless every external locator of `m` names a bucket of a remote the caller
  // may use, except those `exempt` says the caller may keep (a collection already held them).
  Status CheckExternalAccess(const Caller& caller, const manifest::Manifest& m,
                             const std::function<bool(const manifest::Locator&)>& exempt);

 private:
  Catalog(sql::Database* db, CatalogOptions options) : db_(db), options_(std::move(options)) {}

  int64_t NowMicros() const { return options_.env->NowUnixMicros(); }
  // The caller's level on a collection row (owner, grant, admin).
  Result<AccessLevel> LevelOf(sql::Transaction& tx, const Caller& caller,
                              std::string_view owner_uuid, std::string_view collection_uuid);
  // Loads a collection's current row (without manifest) and the caller's level; kNotFound when
  // the caller cannot read it (or it is trashed and !include_trash).
  Result<std::pair<Collection, AccessLevel>> LoadForCaller(sql::Transaction& tx,
                                                           const Caller& caller,
                                                           std::string_view uuid,
                                                           bool include_trash);
  // The manifest text of a version.
  Result<std::string> LoadManifest(sql::Transaction& tx, std::string_view uuid, int64_t version);
  // Parses, checks signatures (except for blocks of `held_manifest`), strips and measures.
  struct SavedManifest {
    std::string text;
    std::string pdh;
    int64_t file_count = 0;
    int64_t file_size_total = 0;
  };
  Result<SavedManifest> PrepareManifest(const Caller& caller, std::string_view text,
                                        std::string_view held_manifest);
  Result<Collection> SetTrashed(const Caller& caller, std::string_view uuid, bool trashed);
  Status RequireAdmin(const Caller& caller, std::string_view what) const;

  sql::Database* db_;
  CatalogOptions options_;
};

}  // namespace cairn::metadata

#endif  // CAIRN_METADATA_CATALOG_H_
