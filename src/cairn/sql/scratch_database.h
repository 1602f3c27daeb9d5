// A fresh, empty database for tests: SQLite in a file under a directory the caller owns, or the
// PostgreSQL database of a DSN with its `public` schema dropped and re-created (every table gone).
//
// Only for tests (the PostgreSQL reset destroys data): the caller names the DSN of a throwaway
// server (scripts/postgres). Thread safety: call from one thread; the Database it returns is
// thread-safe as usual.
#ifndef CAIRN_SQL_SCRATCH_DATABASE_H_
#define CAIRN_SQL_SCRATCH_DATABASE_H_

#include <cstdio>
#include <memory>
#include <string>

#include "cairn/common/result.h"
#include "cairn/sql/database.h"

namespace cairn::sql {

// SQLite: `target` is a file path (removed first if it exists, with its -wal and -shm files).
// PostgreSQL: `target` is a postgresql:// DSN.
inline Result<std::unique_ptr<Database>> OpenScratchDatabase(Backend backend,
                                                             const std::string& target,
                                                             const DatabaseOptions& options = {}) {
  if (backend == Backend::kSqlite) {
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((target + suffix).c_str());
    return Database::Open("sqlite:" + target, options);
  }
  if (target.empty()) {
    return FailedPreconditionError(
        "no PostgreSQL for tests: run `eval \"$(scripts/postgres start)\"` to set "
        "CAIRN_TEST_POSTGRES_DSN");
  }
  {
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Database> admin, Database::Open(target, options));
    CAIRN_ASSIGN_OR_RETURN(Transaction tx, admin->Begin(TransactionMode::kWrite));
    CAIRN_RETURN_IF_ERROR(
        tx.ExecuteScript("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public"));
    CAIRN_RETURN_IF_ERROR(tx.Commit());
  }
  return Database::Open(target, options);
}

}  // namespace cairn::sql

#endif  // CAIRN_SQL_SCRATCH_DATABASE_H_
