// Database: one small interface over SQLite (the embedded default) and PostgreSQL (scale-out),
// so the catalog runs the same SQL on both (DESIGN.md §4).
//
//   CAIRN_ASSIGN_OR_RETURN(auto db, sql::Database::Open("sqlite:/var/lib/cairn/catalog.db"));
//   Status s = db->RunInTransaction(sql::TransactionMode::kWrite, [&](sql::Transaction& tx) {
//     CAIRN_ASSIGN_OR_RETURN(sql::Rows rows, tx.Query("SELECT n FROM t WHERE k = ?", {key}));
//     ...
//     return tx.Execute("UPDATE t SET n = ? WHERE k = ?", {n + 1, key}).status();
//   });
//
// DSNs: a file path or `sqlite:PATH` opens SQLite in WAL mode with a busy timeout (the file is
// created if missing); `postgresql://…` or `postgres://…` connects with libpq (its URI syntax,
// e.g. postgresql://user@127.0.0.1:5432/db).
//
// SQL: one placeholder style, `?`, positional; the PostgreSQL driver rewrites it to $1, $2, …
// (outside quoted strings and identifiers). Statements are prepared: SQLite keeps a cache of
// prepared statements per connection, PostgreSQL sends them with PQexecParams (an unnamed
// prepared statement; parameters never travel inside the SQL text). Keep to the subset both
// databases share: TEXT, BIGINT, PRIMARY KEY / UNIQUE / REFERENCES, INSERT … ON CONFLICT, no
// AUTOINCREMENT / SERIAL, no booleans (BIGINT 0/1), no BLOB/BYTEA columns in shared schemas
// (blob *values* work with a column type per backend).
//
// Errors, by what the caller should do:
//   kAborted         retry the transaction: SQLITE_BUSY/LOCKED after the busy timeout,
//                    PostgreSQL serialization failure or deadlock (40001, 40P01).
//                    RunInTransaction retries these itself.
//   kAlreadyExists   a UNIQUE or PRIMARY KEY constraint refused the row
//   kFailedPrecondition another constraint (foreign key, NOT NULL, CHECK)
//   kUnavailable     the server went away (the connection is dropped from the pool)
//   kInvalidArgument bad SQL or DSN
//
// Thread safety: Database is thread-safe. It keeps a bounded pool of connections (each used by
// one thread at a time): Begin takes one for the life of the Transaction, and a caller waits when
// all are busy. A Transaction is not thread-safe; it must not outlive its Database.
#ifndef CAIRN_SQL_DATABASE_H_
#define CAIRN_SQL_DATABASE_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/common/result.h"
#include "cairn/common/status.h"

namespace cairn::sql {

enum class ValueType { kNull, kInt64, kText, kBlob };

// A parameter or column value: NULL, a 64-bit integer, text or a blob (bytes).
// Thread safety: a value type.
class Value {
 public:
  Value() = default;                                       // NULL
  Value(std::nullptr_t) {}                                 // NOLINT: implicit
  Value(int v) : type_(ValueType::kInt64), int_(v) {}      // NOLINT
  Value(int64_t v) : type_(ValueType::kInt64), int_(v) {}  // NOLINT
  Value(uint64_t v) : type_(ValueType::kInt64), int_(static_cast<int64_t>(v)) {}  // NOLINT
  Value(std::string_view text) : type_(ValueType::kText), bytes_(text) {}         // NOLINT
  Value(const char* text) : type_(ValueType::kText), bytes_(text) {}              // NOLINT
  Value(std::string text) : type_(ValueType::kText), bytes_(std::move(text)) {}   // NOLINT
  // NULL when empty.
  Value(const std::optional<int64_t>& v) {  // NOLINT
    if (v) *this = Value(*v);
  }
  Value(const std::optional<std::string>& v) {  // NOLINT
    if (v) *this = Value(*v);
  }
  static Value Blob(std::string bytes) {
    Value v;
    v.type_ = ValueType::kBlob;
    v.bytes_ = std::move(bytes);
    return v;
  }

  ValueType type() const { return type_; }
  bool is_null() const { return type_ == ValueType::kNull; }
  // The integer; text holding a decimal integer is converted; anything else is 0.
  int64_t int64() const;
  // nullopt for NULL, else int64().
  std::optional<int64_t> optional_int64() const {
    return is_null() ? std::nullopt : std::optional<int64_t>(int64());
  }
  // Text and blob bytes; an integer in decimal; "" for NULL.
  std::string text() const;
  // The bytes of a text or blob value without copying ("" otherwise).
  const std::string& bytes() const { return bytes_; }

  friend bool operator==(const Value&, const Value&) = default;

 private:
  ValueType type_ = ValueType::kNull;
  int64_t int_ = 0;
  std::string bytes_;
};

using Row = std::vector<Value>;

// A query's whole result, in memory (the catalog's queries are bounded by LIMIT).
struct Rows {
  std::vector<std::string> columns;
  std::vector<Row> rows;

  bool empty() const { return rows.empty(); }
  size_t size() const { return rows.size(); }
  const Row& operator[](size_t i) const { return rows[i]; }
};

using Params = std::span<const Value>;

enum class Backend { kSqlite, kPostgres };

// kRead: a reading transaction (SQLite BEGIN DEFERRED; PostgreSQL READ COMMITTED).
// kWrite: a transaction that writes (SQLite BEGIN IMMEDIATE, which takes the write lock at once so
// two writers never deadlock on a lock upgrade; PostgreSQL SERIALIZABLE).
enum class TransactionMode { kRead, kWrite };

// One session with the database: the driver interface under Database. Not thread-safe.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual Result<Rows> Query(std::string_view sql, Params params) = 0;
  // Rows changed.
  virtual Result<int64_t> Execute(std::string_view sql, Params params) = 0;
  // Several statements separated by ';', without parameters (migrations).
  virtual Status ExecuteScript(std::string_view sql) = 0;
  virtual Status Begin(TransactionMode mode) = 0;
  virtual Status Commit() = 0;
  // Never fails visibly: a connection whose rollback failed reports broken().
  virtual void Rollback() = 0;
  // True once the connection is unusable (lost server); the pool then drops it.
  virtual bool broken() const = 0;
};

struct DatabaseOptions {
  // Connections open at once (SQLite: one writer at a time whatever this is).
  int max_connections = 8;
  // SQLite: how long a statement waits for a lock before failing with kAborted.
  std::chrono::milliseconds busy_timeout{5'000};
  // RunInTransaction: attempts of a transaction that keeps failing with kAborted.
  int max_attempts = 8;
};

class Database;

// A transaction on a pooled connection. Rolls back on destruction unless committed. Movable, not
// copyable; not thread-safe. REQUIRES: destroyed before its Database.
class Transaction {
 public:
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&& other) noexcept;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Result<Rows> Query(std::string_view sql, std::initializer_list<Value> params = {});
  Result<Rows> Query(std::string_view sql, Params params);
  Result<int64_t> Execute(std::string_view sql, std::initializer_list<Value> params = {});
  Result<int64_t> Execute(std::string_view sql, Params params);
  Status ExecuteScript(std::string_view sql);
  // Commits; the transaction is over whatever the outcome (a failed commit rolls back).
  Status Commit();
  Backend backend() const;

 private:
  friend class Database;
  Transaction(Database* db, std::unique_ptr<Connection> connection);
  void Finish();

  Database* db_ = nullptr;
  std::unique_ptr<Connection> connection_;
  bool done_ = false;
};

class Database {
 public:
  // Opens the database named by `dsn` (see the file comment) and checks that it answers.
  static Result<std::unique_ptr<Database>> Open(std::string_view dsn,
                                                const DatabaseOptions& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Backend backend() const { return backend_; }

  // Starts a transaction on a connection from the pool (waiting for one when all are busy).
  Result<Transaction> Begin(TransactionMode mode);

  // Runs `fn` in a transaction and commits. When `fn` or the commit fails with kAborted, rolls
  // back and runs `fn` again, up to max_attempts times (with a short growing pause). Any other
  // error rolls back and is returned. `fn` must not keep state across attempts.
  Status RunInTransaction(TransactionMode mode, const std::function<Status(Transaction&)>& fn);

  // One statement in its own transaction.
  Result<Rows> Query(std::string_view sql, std::initializer_list<Value> params = {});
  Result<int64_t> Execute(std::string_view sql, std::initializer_list<Value> params = {});

 private:
  friend class Transaction;
  using Factory = std::function<Result<std::unique_ptr<Connection>>()>;
  struct Pool;
  Database(Backend backend, Factory factory, const DatabaseOptions& options);
  Result<std::unique_ptr<Connection>> Acquire();
  void Release(std::unique_ptr<Connection> connection);

  Backend backend_;
  DatabaseOptions options_;
  std::unique_ptr<Pool> pool_;
};

}  // namespace cairn::sql

#endif  // CAIRN_SQL_DATABASE_H_
