// The catalog's database schema as numbered migrations (sql/migrations.h), the same SQL on SQLite
// and PostgreSQL. Times are Unix microseconds (BIGINT), flags BIGINT 0/1, JSON as TEXT.
#ifndef CAIRN_METADATA_SCHEMA_H_
#define CAIRN_METADATA_SCHEMA_H_

#include <span>

#include "cairn/sql/migrations.h"

namespace cairn::metadata {

// Every migration of the catalog, version 1 first. Append; never edit a released one.
std::span<const sql::Migration> CatalogMigrations();

}  // namespace cairn::metadata

#endif  // CAIRN_METADATA_SCHEMA_H_
