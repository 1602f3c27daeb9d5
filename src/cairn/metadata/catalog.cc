// Catalog: opening, authentication, users, tokens and keep services (collections and permissions
// are in collections.cc).
#include "cairn/metadata/catalog.h"

#include <utility>

#include "cairn/common/hash.h"
#include "cairn/metadata/ids.h"
#include "cairn/metadata/schema.h"

namespace cairn::metadata {
namespace {

using sql::Rows;
using sql::Transaction;
using sql::TransactionMode;

// Longer "tokens" are not tokens; refusing them early keeps hashing cheap for junk.
constexpr size_t kMaxTokenBytes = 4096;

bool IsValidUsername(std::string_view name) {
  if (name.empty() || name.size() > 64 || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

User UserFromRow(const sql::Row& r, size_t at) {
  return User{.uuid = r[at].text(),
              .username = r[at + 1].text(),
              .is_admin = r[at + 2].int64() != 0,
              .created_at = r[at + 3].int64()};
}

ApiToken TokenFromRow(const sql::Row& r) {
  return ApiToken{.uuid = r[0].text(),
                  .user_uuid = r[1].text(),
                  .expires_at = r[2].optional_int64(),
                  .created_at = r[3].int64(),
                  .secret = ""};
}

KeepService ServiceFromRow(const sql::Row& r) {
  return KeepService{.uuid = r[0].text(),
                     .service_host = r[1].text(),
                     .service_port = r[2].int64(),
                     .service_ssl_flag = r[3].int64() != 0,
                     .service_type = r[4].text(),
                     .read_only = r[5].int64() != 0,
                     .created_at = r[6].int64()};
}

constexpr char kServiceColumns[] =
    "uuid, service_host, service_port, service_ssl_flag, service_type, read_only, created_at";

}  // namespace

std::string_view AccessLevelName(AccessLevel level) {
  switch (level) {
    case AccessLevel::kRead:
      return "read";
    case AccessLevel::kWrite:
      return "write";
    case AccessLevel::kManage:
      return "manage";
    case AccessLevel::kNone:
      break;
  }
  return "none";
}

Result<AccessLevel> ParseAccessLevel(std::string_view name) {
  if (name == "read") return AccessLevel::kRead;
  if (name == "write") return AccessLevel::kWrite;
  if (name == "manage") return AccessLevel::kManage;
  return InvalidArgumentError("level must be read, write or manage, not \"" +
                              std::string(name.substr(0, 32)) + "\"");
}

Result<std::unique_ptr<Catalog>> Catalog::Open(sql::Database* db, CatalogOptions options) {
  if (!IsValidClusterId(options.cluster_id)) {
    return InvalidArgumentError("cluster id \"" + options.cluster_id +
                                "\" must be 5 characters [a-z0-9]");
  }
  if (options.signing.key.empty()) return InvalidArgumentError("the blob signing key is empty");
  if (options.signing.ttl_seconds <= 0) {
    return InvalidArgumentError("blob signature TTL must be positive");
  }
  if (options.env == nullptr) options.env = io::Env::Default();
  CAIRN_RETURN_IF_ERROR(
      sql::ApplyMigrations(*db, CatalogMigrations(), options.env->NowUnixSeconds())
          .status()
          .WithContext("catalog schema"));
  return std::unique_ptr<Catalog>(new Catalog(db, std::move(options)));
}

Status Catalog::RequireAdmin(const Caller& caller, std::string_view what) const {
  if (caller.user.is_admin) return Status::OK();
  return PermissionDeniedError(std::string(what) + ": only admins may do this");
}

Result<std::optional<std::string>> Catalog::Bootstrap() {
  std::optional<std::string> token;
  Status s = db_->RunInTransaction(TransactionMode::kWrite, [&](Transaction& tx) {
    token.reset();
    CAIRN_ASSIGN_OR_RETURN(Rows n, tx.Query("SELECT COUNT(*) FROM users"));
    if (n[0][0].int64() > 0) return Status::OK();
    int64_t now = NowMicros();
    std::string user_uuid = NewUuid(options_.cluster_id, kUserType);
    CAIRN_RETURN_IF_ERROR(
        tx.Execute("INSERT INTO users (uuid, username, is_admin, created_at) VALUES (?, ?, 1, ?)",
                   {user_uuid, "admin", now}));
    std::string secret = RandomAlphanumeric(kTokenLength);
    CAIRN_RETURN_IF_ERROR(
        tx.Execute("INSERT INTO api_tokens (uuid, token_sha256, user_uuid, expires_at, created_at) "
                   "VALUES (?, ?, ?, NULL, ?)",
                   {NewUuid(options_.cluster_id, kTokenType), Sha256Hex(secret), user_uuid, now}));
    token = std::move(secret);
    return Status::OK();
  });
  if (s.code() == StatusCode::kAlreadyExists) return std::optional<std::string>();  // lost a race
  CAIRN_RETURN_IF_ERROR(s.WithContext("create the admin user"));
  return token;
}

Result<Caller> Catalog::Authenticate(std::string_view token) {
  if (token.empty()) return UnauthenticatedError("missing API token");
  if (token.size() > kMaxTokenBytes) return UnauthenticatedError("invalid API token");
  CAIRN_ASSIGN_OR_RETURN(
      Rows rows,
      db_->Query("SELECT t.uuid, t.expires_at, u.uuid, u.username, u.is_admin, u.created_at "
                 "FROM api_tokens t JOIN users u ON u.uuid = t.user_uuid "
                 "WHERE t.token_sha256 = ?",
                 {Sha256Hex(token)}));
  if (rows.empty()) return UnauthenticatedError("invalid or revoked API token");
  const sql::Row& r = rows[0];
  std::optional<int64_t> expires_at = r[1].optional_int64();
  if (expires_at && *expires_at <= NowMicros()) {
    return UnauthenticatedError("API token " + r[0].text() + " expired at " +
                                FormatTime(*expires_at));
  }
  return Caller{.user = UserFromRow(r, 2), .token_uuid = r[0].text(), .token = std::string(token)};
}

// --- Users.

Result<User> Catalog::CreateUser(const Caller& caller, const NewUser& user) {
  CAIRN_RETURN_IF_ERROR(RequireAdmin(caller, "create a user"));
  if (!IsValidUsername(user.username)) {
    return InvalidArgumentError("username \"" + user.username.substr(0, 80) +
                                "\" must match [a-z][a-z0-9_.-]{0,63}");
  }
  User created{.uuid = NewUuid(options_.cluster_id, kUserType),
               .username = user.username,
               .is_admin = user.is_admin,
               .created_at = NowMicros()};
  Status s = db_->RunInTransaction(TransactionMode::kWrite, [&](Transaction& tx) {
    return tx
        .Execute("INSERT INTO users (uuid, username, is_admin, created_at) VALUES (?, ?, ?, ?)",
                 {created.uuid, created.username, created.is_admin ? 1 : 0, created.created_at})
        .status();
  });
  if (s.code() == StatusCode::kAlreadyExists) {
    return AlreadyExistsError("username " + user.username + " is taken");
  }
  CAIRN_RETURN_IF_ERROR(s);
  return created;
}

Result<Page<User>> Catalog::ListUsers(const Caller& caller, const Paging& paging) {
  Page<User> page{
      .items = {}, .items_available = 0, .limit = paging.limit, .offset = paging.offset};
  Status done = db_->RunInTransaction(TransactionMode::kRead, [&](Transaction& tx) {
    CAIRN_ASSIGN_OR_RETURN(Rows n, tx.Query("SELECT COUNT(*) FROM users"));
    page.items_available = n[0][0].int64();
    CAIRN_ASSIGN_OR_RETURN(Rows rows,
                           tx.Query("SELECT uuid, username, is_admin, created_at FROM users "
                                    "ORDER BY username LIMIT ? OFFSET ?",
                                    {paging.limit, paging.offset}));
    page.items.clear();
    for (const sql::Row& r : rows.rows) {
      User u = UserFromRow(r, 0);
      if (!caller.user.is_admin) u = User{.uuid = u.uuid, .username = u.username};
      page.items.push_back(std::move(u));
    }
    return Status::OK();
  });
  CAIRN_RETURN_IF_ERROR(done);
  return page;
}

// --- Tokens.

Result<ApiToken> Catalog::CreateToken(const Caller& caller, std::optional<std::string> user_uuid,
                                      std::optional<int64_t> expires_at) {
  std::string owner = user_uuid.value_or(caller.user.uuid);
  if (owner != caller.user.uuid) {
    CAIRN_RETURN_IF_ERROR(RequireAdmin(caller, "create a token for another user"));
  }
  int64_t now = NowMicros();
  if (expires_at && *expires_at <= now) {
    return InvalidArgumentError("expires_at " + FormatTime(*expires_at) + " is in the past");
  }
  ApiToken token{.uuid = NewUuid(options_.cluster_id, kTokenType),
                 .user_uuid = owner,
                 .expires_at = expires_at,
                 .created_at = now,
                 .secret = RandomAlphanumeric(kTokenLength)};
  Status done = db_->RunInTransaction(TransactionMode::kWrite, [&](Transaction& tx) {
    CAIRN_ASSIGN_OR_RETURN(Rows u, tx.Query("SELECT uuid FROM users WHERE uuid = ?", {owner}));
    if (u.empty()) return NotFoundError("user " + owner + ": not found");
    return tx
        .Execute(
            "INSERT INTO api_tokens (uuid, token_sha256, user_uuid, expires_at, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            {token.uuid, Sha256Hex(token.secret), owner, expires_at, now})
        .status();
  });
  CAIRN_RETURN_IF_ERROR(done);
  return token;
}

Result<Page<ApiToken>> Catalog::ListTokens(const Caller& caller,
                                           std::optional<std::string> user_uuid,
                                           const Paging& paging) {
  std::string owner = user_uuid.value_or(caller.user.uuid);
  if (owner != caller.user.uuid) {
    CAIRN_RETURN_IF_ERROR(RequireAdmin(caller, "list another user's tokens"));
  }
  Page<ApiToken> page{
      .items = {}, .items_available = 0, .limit = paging.limit, .offset = paging.offset};
  Status done = db_->RunInTransaction(TransactionMode::kRead, [&](Transaction& tx) {
    CAIRN_ASSIGN_OR_RETURN(
        Rows n, tx.Query("SELECT COUNT(*) FROM api_tokens WHERE user_uuid = ?", {owner}));
    page.items_available = n[0][0].int64();
    CAIRN_ASSIGN_OR_RETURN(
        Rows rows, tx.Query("SELECT uuid, user_uuid, expires_at, created_at FROM api_tokens "
                            "WHERE user_uuid = ? ORDER BY created_at, uuid LIMIT ? OFFSET ?",
                            {owner, paging.limit, paging.offset}));
    page.items.clear();
    for (const sql::Row& r : rows.rows) page.items.push_back(TokenFromRow(r));
    return Status::OK();
  });
  CAIRN_RETURN_IF_ERROR(done);
  return page;
}

Result<ApiToken> Catalog::RevokeToken(const Caller& caller, std::string_view uuid) {
  std::string target(uuid == "current" ? std::string_view(caller.token_uuid) : uuid);
  ApiToken token;
  Status done = db_->RunInTransaction(TransactionMode::kWrite, [&](Transaction& tx) {
    CAIRN_ASSIGN_OR_RETURN(
        Rows rows, tx.Query("SELECT uuid, user_uuid, expires_at, created_at FROM api_tokens "
                            "WHERE uuid = ?",
                            {target}));
    // Others' tokens are invisible to non-admins: not found rather than forbidden.
    if (rows.empty() || (rows[0][1].text() != caller.user.uuid && !caller.user.is_admin)) {
      return NotFoundError("api token " + target + ": not found");
    }
    token = TokenFromRow(rows[0]);
    return tx.Execute("DELETE FROM api_tokens WHERE uuid = ?", {target}).status();
  });
  CAIRN_RETURN_IF_ERROR(done);
  return token;
}

// --- Keep services.

Result<Page<KeepService>> Catalog::ListKeepServices(const Caller& /*caller*/,
                                                    const Paging& paging) {
  Page<KeepService> page{
      .items = {}, .items_available = 0, .limit = paging.limit, .offset = paging.offset};
  Status done = db_->RunInTransaction(TransactionMode::kRead, [&](Transaction& tx) {
    CAIRN_ASSIGN_OR_RETURN(Rows n, tx.Query("SELECT COUNT(*) FROM keep_services"));
    page.items_available = n[0][0].int64();
    CAIRN_ASSIGN_OR_RETURN(Rows rows, tx.Query(std::string("SELECT ") + kServiceColumns +
                                                   " FROM keep_services ORDER BY uuid "
                                                   "LIMIT ? OFFSET ?",
                                               {paging.limit, paging.offset}));
    page.items.clear();
    for (const sql::Row& r : rows.rows) page.items.push_back(ServiceFromRow(r));
    return Status::OK();
  });
  CAIRN_RETURN_IF_ERROR(done);
  return page;
}

Result<KeepService> Catalog::AddKeepService(const Caller& caller, const KeepService& service) {
  CAIRN_RETURN_IF_ERROR(RequireAdmin(caller, "register a keep service"));
  if (service.service_host.empty() || service.service_host.size() > 255 ||
      service.service_host.find_first_of(" /\t\r\n") != std::string::npos) {
    return InvalidArgumentError("service_host \"" + service.service_host.substr(0, 64) +
                                "\" is not a host name");
  }
  if (service.service_port < 1 || service.service_port > 65535) {
    return InvalidArgumentError("service_port " + std::to_string(service.service_port) +
                                " is not in 1..65535");
  }
  if (service.service_type != "disk" && service.service_type != "gateway" &&
      service.service_type != "proxy") {
    return InvalidArgumentError("service_type must be disk, gateway or proxy, not \"" +
                                service.service_type.substr(0, 32) + "\"");
  }
  KeepService result = service;
  Status done = db_->RunInTransaction(TransactionMode::kWrite, [&](Transaction& tx) {
    CAIRN_ASSIGN_OR_RETURN(Rows found, tx.Query(std::string("SELECT ") + kServiceColumns +
                                                    " FROM keep_services WHERE service_host = ? "
                                                    "AND service_port = ?",
                                                {service.service_host, service.service_port}));
    if (!found.empty()) {
      result = ServiceFromRow(found[0]);
      return Status::OK();
    }
    result = service;
    result.uuid = NewUuid(options_.cluster_id, kKeepServiceType);
    result.created_at = NowMicros();
    return tx
        .Execute(
            std::string("INSERT INTO keep_services (") + kServiceColumns +
                ") VALUES (?, ?, ?, ?, ?, ?, ?)",
            {result.uuid, result.service_host, result.service_port, result.service_ssl_flag ? 1 : 0,
             result.service_type, result.read_only ? 1 : 0, result.created_at})
        .status();
  });
  CAIRN_RETURN_IF_ERROR(done);
  return result;
}

Result<KeepService> Catalog::RemoveKeepService(const Caller& caller, std::string_view uuid) {
  CAIRN_RETURN_IF_ERROR(RequireAdmin(caller, "remove a keep service"));
  KeepService removed;
  Status done = db_->RunInTransaction(TransactionMode::kWrite, [&](Transaction& tx) {
    CAIRN_ASSIGN_OR_RETURN(Rows found, tx.Query(std::string("SELECT ") + kServiceColumns +
                                                    " FROM keep_services WHERE uuid = ?",
                                                {uuid}));
    if (found.empty()) return NotFoundError("keep service " + std::string(uuid) + ": not found");
    removed = ServiceFromRow(found[0]);
    return tx.Execute("DELETE FROM keep_services WHERE uuid = ?", {uuid}).status();
  });
  CAIRN_RETURN_IF_ERROR(done);
  return removed;
}

}  // namespace cairn::metadata
