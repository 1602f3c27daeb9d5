#include "cairn/sql/migrations.h"

#include <string>

namespace cairn::sql {
namespace {

constexpr std::string_view kCreateTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT "
    "NULL, applied_at BIGINT NOT NULL)";

Status EnsureTable(Database& db) {
  Status s = db.RunInTransaction(TransactionMode::kWrite,
                                 [](Transaction& tx) { return tx.ExecuteScript(kCreateTable); });
  // Two PostgreSQL sessions creating the table at once: one wins, the other sees a duplicate.
  if (s.code() == StatusCode::kAlreadyExists) return Status::OK();
  return s;
}

}  // namespace

Result<int64_t> SchemaVersion(Database& db) {
  CAIRN_RETURN_IF_ERROR(EnsureTable(db));
  CAIRN_ASSIGN_OR_RETURN(Rows rows, db.Query("SELECT MAX(version) FROM schema_migrations"));
  return rows.empty() ? int64_t{0} : rows[0][0].int64();
}

Result<int> ApplyMigrations(Database& db, std::span<const Migration> migrations, int64_t now_unix) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int64_t>(i + 1)) {
      return InvalidArgumentError("migration " + std::string(migrations[i].name) + " has version " +
                                  std::to_string(migrations[i].version) + ", expected " +
                                  std::to_string(i + 1));
    }
  }
  CAIRN_ASSIGN_OR_RETURN(int64_t current, SchemaVersion(db));
  if (current > static_cast<int64_t>(migrations.size())) {
    return FailedPreconditionError("database schema version " + std::to_string(current) +
                                   " is newer than this binary knows (" +
                                   std::to_string(migrations.size()) + ")");
  }
  int applied = 0;
  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    bool ran = false;
    Status s = db.RunInTransaction(TransactionMode::kWrite, [&](Transaction& tx) {
      ran = false;
      CAIRN_ASSIGN_OR_RETURN(
          Rows done,
          tx.Query("SELECT version FROM schema_migrations WHERE version = ?", {m.version}));
      if (!done.empty()) return Status::OK();  // another process applied it meanwhile
      CAIRN_RETURN_IF_ERROR(tx.ExecuteScript(m.sql));
      CAIRN_RETURN_IF_ERROR(
          tx.Execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                     {m.version, m.name, now_unix}));
      ran = true;
      return Status::OK();
    });
    if (!s.ok()) {
      return s.WithContext("migration " + std::to_string(m.version) + " (" + std::string(m.name) +
                           ")");
    }
    if (ran) ++applied;
  }
  return applied;
}

}  // namespace cairn::sql
