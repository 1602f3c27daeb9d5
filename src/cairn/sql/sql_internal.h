// The two drivers behind Database (private to the sql module).
#ifndef CAIRN_SQL_SQL_INTERNAL_H_
#define CAIRN_SQL_SQL_INTERNAL_H_

#include <memory>
#include <string>
#include <string_view>

#include "cairn/common/result.h"
#include "cairn/sql/database.h"

namespace cairn::sql::internal {

// Opens a SQLite connection to the file at `path` (created if missing), in WAL mode with the busy
// timeout of `options`, foreign keys on.
Result<std::unique_ptr<Connection>> OpenSqlite(const std::string& path,
                                               const DatabaseOptions& options);

// Connects to PostgreSQL with a libpq URI.
Result<std::unique_ptr<Connection>> OpenPostgres(const std::string& uri,
                                                 const DatabaseOptions& options);

// `sql` with each `?` outside quotes ('…', "…") and comments rewritten to $1, $2, …; the number
// of placeholders goes to *count when it is not null.
std::string ToDollarPlaceholders(std::string_view sql, int* count = nullptr);

}  // namespace cairn::sql::internal

#endif  // CAIRN_SQL_SQL_INTERNAL_H_
