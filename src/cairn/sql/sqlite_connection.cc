// The SQLite driver: one sqlite3 handle per Connection, opened without SQLite's own mutexes (the
// pool hands a connection to one thread at a time), WAL journal, a busy timeout, and a cache of
// prepared statements keyed by their SQL text.
#include <sqlite3.h>

#include <string>
#include <unordered_map>
#include <utility>

#include "cairn/sql/sql_internal.h"

namespace cairn::sql::internal {
namespace {

// Prepared statements kept per connection; the catalog uses a few dozen distinct statements.
constexpr size_t kMaxCachedStatements = 128;

Status SqliteError(sqlite3* db, int rc, std::string_view context) {
  std::string message = std::string(context) + ": " +
                        (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)) + " (SQLite " +
                        std::to_string(rc) + ")";
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return AbortedError(message);
    case SQLITE_CONSTRAINT:
      if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        return AlreadyExistsError(message);
      }
      return FailedPreconditionError(message);
    case SQLITE_ERROR:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
      return InvalidArgumentError(message);
    case SQLITE_FULL:
      return ResourceExhaustedError(message);
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
      return FailedPreconditionError(message);
    default:
      return InternalError(message);
  }
}

class SqliteConnection : public Connection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    ClearCache();
    sqlite3_close_v2(db_);
  }

  Result<Rows> Query(std::string_view sql, Params params) override {
    Rows rows;
    CAIRN_RETURN_IF_ERROR(Run(sql, params, &rows));
    return rows;
  }

  Result<int64_t> Execute(std::string_view sql, Params params) override {
    CAIRN_RETURN_IF_ERROR(Run(sql, params, nullptr));
    return static_cast<int64_t>(sqlite3_changes64(db_));
  }

  Status ExecuteScript(std::string_view sql) override {
    std::string text(sql);
    char* error = nullptr;
    int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error);
    if (rc != SQLITE_OK) {
      std::string message = error != nullptr ? error : sqlite3_errstr(rc);
      sqlite3_free(error);
      Status s = SqliteError(nullptr, rc, "run SQL script");
      return Status(s.code(), "run SQL script: " + message);
    }
    return Status::OK();
  }

  Status Begin(TransactionMode mode) override {
    return ExecuteScript(mode == TransactionMode::kWrite ? "BEGIN IMMEDIATE" : "BEGIN");
  }
  Status Commit() override { return ExecuteScript("COMMIT"); }
  void Rollback() override {
    if (sqlite3_get_autocommit(db_) == 0) {
      if (!ExecuteScript("ROLLBACK").ok()) broken_ = true;
    }
  }
  bool broken() const override { return broken_; }

  Status Configure(const DatabaseOptions& options) {
    int rc = sqlite3_busy_timeout(db_, static_cast<int>(options.busy_timeout.count()));
    if (rc != SQLITE_OK) return SqliteError(db_, rc, "set SQLite busy timeout");
    sqlite3_extended_result_codes(db_, 1);
    // WAL: readers never block the writer nor the writer readers; synchronous=FULL makes every
    // commit durable (catalog writes are few and small).
    CAIRN_ASSIGN_OR_RETURN(Rows mode, Query("PRAGMA journal_mode=WAL", {}));
    if (mode.empty() || mode[0][0].text() != "wal") {
      return FailedPreconditionError("SQLite refused WAL mode (journal_mode=" +
                                     (mode.empty() ? std::string("?") : mode[0][0].text()) + ")");
    }
    CAIRN_RETURN_IF_ERROR(ExecuteScript("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON"));
    return Status::OK();
  }

 private:
  Status Run(std::string_view sql, Params params, Rows* rows) {
    CAIRN_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql));
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    int expected = sqlite3_bind_parameter_count(stmt);
    if (static_cast<size_t>(expected) != params.size()) {
      return InvalidArgumentError("SQL statement takes " + std::to_string(expected) +
                                  " parameters, given " + std::to_string(params.size()));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      int idx = static_cast<int>(i + 1);
      int rc = SQLITE_OK;
      switch (v.type()) {
        case ValueType::kNull:
          rc = sqlite3_bind_null(stmt, idx);
          break;
        case ValueType::kInt64:
          rc = sqlite3_bind_int64(stmt, idx, v.int64());
          break;
        case ValueType::kText:
          rc = sqlite3_bind_text64(stmt, idx, v.bytes().data(), v.bytes().size(), SQLITE_STATIC,
                                   SQLITE_UTF8);
          break;
        case ValueType::kBlob:
          rc = sqlite3_bind_blob64(stmt, idx, v.bytes().data(), v.bytes().size(), SQLITE_STATIC);
          break;
      }
      if (rc != SQLITE_OK) return SqliteError(db_, rc, "bind SQL parameter");
    }
    if (rows != nullptr) {
      int n = sqlite3_column_count(stmt);
      rows->columns.clear();
      for (int c = 0; c < n; ++c) rows->columns.emplace_back(sqlite3_column_name(stmt, c));
    }
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        Status s = SqliteError(db_, rc, "SQL statement");
        sqlite3_reset(stmt);
        return s;
      }
      if (rows == nullptr) continue;
      Row row;
      int n = sqlite3_column_count(stmt);
      row.reserve(n);
      for (int c = 0; c < n; ++c) row.push_back(Column(stmt, c));
      rows->rows.push_back(std::move(row));
    }
    // Unbind, so that no statement keeps pointers into the caller's parameters.
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    return Status::OK();
  }

  static Value Column(sqlite3_stmt* stmt, int c) {
    switch (sqlite3_column_type(stmt, c)) {
      case SQLITE_INTEGER:
        return Value(static_cast<int64_t>(sqlite3_column_int64(stmt, c)));
      case SQLITE_NULL:
        return Value();
      case SQLITE_BLOB: {
        const void* p = sqlite3_column_blob(stmt, c);
        int n = sqlite3_column_bytes(stmt, c);
        return Value::Blob(std::string(static_cast<const char*>(p), p ? n : 0));
      }
      default: {  // TEXT, and FLOAT as its text
        const unsigned char* p = sqlite3_column_text(stmt, c);
        int n = sqlite3_column_bytes(stmt, c);
        return Value(std::string(reinterpret_cast<const char*>(p), p ? n : 0));
      }
    }
  }

  Result<sqlite3_stmt*> Prepare(std::string_view sql) {
    std::string key(sql);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
    if (cache_.size() >= kMaxCachedStatements) ClearCache();
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
    if (rc != SQLITE_OK) return SqliteError(db_, rc, "prepare SQL");
    if (stmt == nullptr) return InvalidArgumentError("prepare SQL: empty statement");
    std::string_view rest(tail, key.data() + key.size() - tail);
    if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
      sqlite3_finalize(stmt);
      return InvalidArgumentError("prepare SQL: more than one statement (use ExecuteScript)");
    }
    cache_.emplace(std::move(key), stmt);
    return stmt;
  }

  void ClearCache() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    cache_.clear();
  }

  sqlite3* db_;
  bool broken_ = false;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace

Result<std::unique_ptr<Connection>> OpenSqlite(const std::string& path,
                                               const DatabaseOptions& options) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Status s = SqliteError(db, rc, "open SQLite database " + path);
    sqlite3_close_v2(db);
    return s;
  }
  auto connection = std::make_unique<SqliteConnection>(db);
  CAIRN_RETURN_IF_ERROR(connection->Configure(options).WithContext("SQLite database " + path));
  return std::unique_ptr<Connection>(std::move(connection));
}

}  // namespace cairn::sql::internal
