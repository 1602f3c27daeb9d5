#include "cairn/sql/database.h"

#include <charconv>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>

#include "cairn/sql/sql_internal.h"

namespace cairn::sql {

int64_t Value::int64() const {
  if (type_ == ValueType::kInt64) return int_;
  if (type_ != ValueType::kText) return 0;
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(bytes_.data(), bytes_.data() + bytes_.size(), v);
  if (ec != std::errc() || ptr != bytes_.data() + bytes_.size()) return 0;
  return v;
}

std::string Value::text() const {
  switch (type_) {
    case ValueType::kNull:
      return "";
    case ValueType::kInt64:
      return std::to_string(int_);
    case ValueType::kText:
    case ValueType::kBlob:
      return bytes_;
  }
  return "";
}

// --- Pool.

struct Database::Pool {
  Factory factory;
  int max_connections;
  std::mutex mu;
  std::condition_variable returned;
  std::vector<std::unique_ptr<Connection>> idle;  // guarded by mu
  int open = 0;                                   // guarded by mu: idle + in use
};

Database::Database(Backend backend, Factory factory, const DatabaseOptions& options)
    : backend_(backend), options_(options), pool_(std::make_unique<Pool>()) {
  pool_->factory = std::move(factory);
  pool_->max_connections = options.max_connections < 1 ? 1 : options.max_connections;
}

Database::~Database() = default;

Result<std::unique_ptr<Database>> Database::Open(std::string_view dsn,
                                                 const DatabaseOptions& options) {
  Backend backend;
  Factory factory;
  if (dsn.starts_with("postgresql://") || dsn.starts_with("postgres://")) {
    backend = Backend::kPostgres;
    factory = [uri = std::string(dsn), options] { return internal::OpenPostgres(uri, options); };
  } else {
    std::string_view path = dsn;
    if (path.starts_with("sqlite:")) path.remove_prefix(7);
    if (path.empty()) return InvalidArgumentError("database DSN: empty SQLite path");
    if (path == ":memory:") {
      // Each connection of the pool would see its own empty database.
      return InvalidArgumentError("database DSN: in-memory SQLite is not supported (use a file)");
    }
    backend = Backend::kSqlite;
    factory = [p = std::string(path), options] { return internal::OpenSqlite(p, options); };
  }
  std::unique_ptr<Database> db(new Database(backend, std::move(factory), options));
  // Connect once now, so that a bad DSN fails here rather than on the first request.
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Connection> first, db->Acquire());
  db->Release(std::move(first));
  return db;
}

Result<std::unique_ptr<Connection>> Database::Acquire() {
  std::unique_lock<std::mutex> lock(pool_->mu);
  pool_->returned.wait(
      lock, [&] { return !pool_->idle.empty() || pool_->open < pool_->max_connections; });
  if (!pool_->idle.empty()) {
    std::unique_ptr<Connection> c = std::move(pool_->idle.back());
    pool_->idle.pop_back();
    return c;
  }
  ++pool_->open;
  lock.unlock();
  Result<std::unique_ptr<Connection>> c = pool_->factory();
  if (!c.ok()) {
    lock.lock();
    --pool_->open;
    pool_->returned.notify_one();
  }
  return c;
}

void Database::Release(std::unique_ptr<Connection> connection) {
  std::lock_guard<std::mutex> lock(pool_->mu);
  if (connection->broken()) {
    --pool_->open;
    connection.reset();
  } else {
    pool_->idle.push_back(std::move(connection));
  }
  pool_->returned.notify_one();
}

Result<Transaction> Database::Begin(TransactionMode mode) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Connection> c, Acquire());
  Status begun = c->Begin(mode);
  if (!begun.ok()) {
    Release(std::move(c));
    return begun;
  }
  return Transaction(this, std::move(c));
}

Status Database::RunInTransaction(TransactionMode mode,
                                  const std::function<Status(Transaction&)>& fn) {
  Status last;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    if (attempt > 0) {
      // Contention is brief (one catalog write); a short, growing pause lets the winner finish.
      std::this_thread::sleep_for(std::chrono::milliseconds(2 << attempt));
    }
    Result<Transaction> tx = Begin(mode);
    if (!tx.ok()) {
      last = tx.status();
    } else {
      last = fn(*tx);
      if (last.ok()) last = tx->Commit();
    }
    if (last.code() != StatusCode::kAborted) return last;
  }
  return last.WithContext("transaction failed " + std::to_string(options_.max_attempts) +
                          " times on conflicts");
}

Result<Rows> Database::Query(std::string_view sql, std::initializer_list<Value> params) {
  CAIRN_ASSIGN_OR_RETURN(Transaction tx, Begin(TransactionMode::kRead));
  CAIRN_ASSIGN_OR_RETURN(Rows rows, tx.Query(sql, params));
  CAIRN_RETURN_IF_ERROR(tx.Commit());
  return rows;
}

Result<int64_t> Database::Execute(std::string_view sql, std::initializer_list<Value> params) {
  CAIRN_ASSIGN_OR_RETURN(Transaction tx, Begin(TransactionMode::kWrite));
  CAIRN_ASSIGN_OR_RETURN(int64_t n, tx.Execute(sql, params));
  CAIRN_RETURN_IF_ERROR(tx.Commit());
  return n;
}

// --- Transaction.

Transaction::Transaction(Database* db, std::unique_ptr<Connection> connection)
    : db_(db), connection_(std::move(connection)) {}

Transaction::Transaction(Transaction&& other) noexcept
    : db_(other.db_), connection_(std::move(other.connection_)), done_(other.done_) {
  other.db_ = nullptr;
}

Transaction& Transaction::operator=(Transaction&& other) noexcept {
  if (this != &other) {
    Finish();
    db_ = other.db_;
    connection_ = std::move(other.connection_);
    done_ = other.done_;
    other.db_ = nullptr;
  }
  return *this;
}

Transaction::~Transaction() { Finish(); }

void Transaction::Finish() {
  if (connection_ == nullptr) return;
  if (!done_) connection_->Rollback();
  done_ = true;
  db_->Release(std::move(connection_));
}

Result<Rows> Transaction::Query(std::string_view sql, std::initializer_list<Value> params) {
  return Query(sql, Params(params.begin(), params.size()));
}

Result<Rows> Transaction::Query(std::string_view sql, Params params) {
  if (connection_ == nullptr || done_) return FailedPreconditionError("transaction is over");
  return connection_->Query(sql, params);
}

Result<int64_t> Transaction::Execute(std::string_view sql, std::initializer_list<Value> params) {
  return Execute(sql, Params(params.begin(), params.size()));
}

Result<int64_t> Transaction::Execute(std::string_view sql, Params params) {
  if (connection_ == nullptr || done_) return FailedPreconditionError("transaction is over");
  return connection_->Execute(sql, params);
}

Status Transaction::ExecuteScript(std::string_view sql) {
  if (connection_ == nullptr || done_) return FailedPreconditionError("transaction is over");
  return connection_->ExecuteScript(sql);
}

Status Transaction::Commit() {
  if (connection_ == nullptr || done_) return FailedPreconditionError("transaction is over");
  Status s = connection_->Commit();
  if (!s.ok()) connection_->Rollback();
  done_ = true;
  Finish();
  return s;
}

Backend Transaction::backend() const { return db_->backend(); }

// --- Placeholders.

namespace internal {

std::string ToDollarPlaceholders(std::string_view sql, int* count) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    char c = sql[i];
    if (c == '\'' || c == '"') {
      // Copy the quoted text through its closing quote (a doubled quote stays inside).
      size_t end = sql.find(c, i + 1);
      while (end != std::string_view::npos && end + 1 < sql.size() && sql[end + 1] == c) {
        end = sql.find(c, end + 2);
      }
      if (end == std::string_view::npos) end = sql.size() - 1;
      out.append(sql.substr(i, end - i + 1));
      i = end;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      size_t end = sql.find('\n', i);
      if (end == std::string_view::npos) end = sql.size() - 1;
      out.append(sql.substr(i, end - i + 1));
      i = end;
    } else if (c == '?') {
      out += '$';
      out += std::to_string(++n);
    } else {
      out += c;
    }
  }
  if (count != nullptr) *count = n;
  return out;
}

}  // namespace internal
}  // namespace cairn::sql
