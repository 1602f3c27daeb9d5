// Numbered schema migrations: each is SQL compiled into the binary (the `0001_init.sql` of
// other projects) and runs once, in version order, in its own write transaction together with
// its row in `schema_migrations (version BIGINT PRIMARY KEY, name TEXT, applied_at BIGINT)`. So a
// migration is applied entirely or not at all, and processes that start together apply each one
// once (the loser of the race sees the row and skips it).
//
// Migrations must use SQL both backends run (database.h).
//
// Thread safety: ApplyMigrations may run concurrently with itself, in any number of processes.
#ifndef CAIRN_SQL_MIGRATIONS_H_
#define CAIRN_SQL_MIGRATIONS_H_

#include <cstdint>
#include <span>
#include <string_view>

#include "cairn/common/result.h"
#include "cairn/sql/database.h"

namespace cairn::sql {

struct Migration {
  int64_t version = 0;    // 1, 2, … strictly increasing
  std::string_view name;  // "init"
  std::string_view sql;   // statements separated by ';'
};

// Applies every migration of `migrations` not yet recorded; returns how many it applied.
// kInvalidArgument when versions are not strictly increasing from 1; kFailedPrecondition when the
// database already holds a version this binary does not know (it is newer than the binary).
// `now_unix` is recorded as applied_at.
Result<int> ApplyMigrations(Database& db, std::span<const Migration> migrations, int64_t now_unix);

// The highest applied version (0 for a fresh database).
Result<int64_t> SchemaVersion(Database& db);

}  // namespace cairn::sql

#endif  // CAIRN_SQL_MIGRATIONS_H_
