// The PostgreSQL driver: one libpq connection per Connection. Statements go out with
// PQexecParams (parameters separate from the SQL text, `?` rewritten to $n); results come back as
// text and are typed by their column's type OID.
#include <libpq-fe.h>

#include <charconv>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cairn/sql/sql_internal.h"

namespace cairn::sql::internal {
namespace {

// Type OIDs (PostgreSQL's catalog/pg_type.h; stable across versions).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

std::string TrimMessage(const char* text) {
  std::string s = text != nullptr ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

class PostgresConnection : public Connection {
 public:
  explicit PostgresConnection(PGconn* conn) : conn_(conn) {}
  ~PostgresConnection() override { PQfinish(conn_); }

  Result<Rows> Query(std::string_view sql, Params params) override {
    CAIRN_ASSIGN_OR_RETURN(PgResult r, Exec(sql, params));
    Rows rows;
    int ncols = PQnfields(r.get());
    int nrows = PQntuples(r.get());
    std::vector<Oid> types(ncols);
    for (int c = 0; c < ncols; ++c) {
      rows.columns.emplace_back(PQfname(r.get(), c));
      types[c] = PQftype(r.get(), c);
    }
    rows.rows.reserve(nrows);
    for (int i = 0; i < nrows; ++i) {
      Row row;
      row.reserve(ncols);
      for (int c = 0; c < ncols; ++c) row.push_back(Cell(r.get(), i, c, types[c]));
      rows.rows.push_back(std::move(row));
    }
    return rows;
  }

  Result<int64_t> Execute(std::string_view sql, Params params) override {
    CAIRN_ASSIGN_OR_RETURN(PgResult r, Exec(sql, params));
    std::string_view n = PQcmdTuples(r.get());
    int64_t changed = 0;
    std::from_chars(n.data(), n.data() + n.size(), changed);
    return changed;
  }

  Status ExecuteScript(std::string_view sql) override {
    std::string text(sql);
    PgResult r(PQexec(conn_, text.c_str()));
    return Check(r.get(), "run SQL script");
  }

  Status Begin(TransactionMode mode) override {
    return ExecuteScript(mode == TransactionMode::kWrite ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
                                                         : "BEGIN");
  }
  Status Commit() override { return ExecuteScript("COMMIT"); }
  void Rollback() override {
    if (PQtransactionStatus(conn_) == PQTRANS_IDLE) return;
    PgResult r(PQexec(conn_, "ROLLBACK"));
    if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) broken_ = true;
  }
  bool broken() const override { return broken_ || PQstatus(conn_) != CONNECTION_OK; }

 private:
  Result<PgResult> Exec(std::string_view sql, Params params) {
    int expected = 0;
    std::string text = ToDollarPlaceholders(sql, &expected);
    if (static_cast<size_t>(expected) != params.size()) {
      return InvalidArgumentError("SQL statement takes " + std::to_string(expected) +
                                  " parameters, given " + std::to_string(params.size()));
    }
    std::vector<Oid> types(params.size(), 0);
    std::vector<std::string> texts(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<int> lengths(params.size(), 0);
    std::vector<int> formats(params.size(), 0);
    for (size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      switch (v.type()) {
        case ValueType::kNull:
          break;
        case ValueType::kInt64:
          types[i] = kInt8Oid;
          texts[i] = std::to_string(v.int64());
          values[i] = texts[i].c_str();
          break;
        case ValueType::kText:
          values[i] = v.bytes().c_str();
          lengths[i] = static_cast<int>(v.bytes().size());
          break;
        case ValueType::kBlob:
          types[i] = kByteaOid;
          values[i] = v.bytes().data();
          lengths[i] = static_cast<int>(v.bytes().size());
          formats[i] = 1;  // binary: the bytes as they are
          break;
      }
    }
    PgResult r(PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), types.data(),
                            values.data(), lengths.data(), formats.data(), /*resultFormat=*/0));
    CAIRN_RETURN_IF_ERROR(Check(r.get(), "SQL statement"));
    return r;
  }

  Status Check(PGresult* r, std::string_view context) {
    ExecStatusType st = PQresultStatus(r);
    if (r != nullptr && (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)) return Status::OK();
    if (r == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      broken_ = true;
      return UnavailableError(std::string(context) + ": PostgreSQL connection lost: " +
                              TrimMessage(PQerrorMessage(conn_)));
    }
    const char* state_text = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    std::string state = state_text != nullptr ? state_text : "";
    std::string message = std::string(context) + ": " +
                          TrimMessage(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)) +
                          " (SQLSTATE " + state + ")";
    ErrorDetail detail;
    detail.service_code = state;
    // SQLSTATE classes: 40 transaction rollback, 23 integrity, 42 syntax/access, 08 connection,
    // 57 operator intervention, 53 insufficient resources.
    if (state == "40001" || state == "40P01") return Status(StatusCode::kAborted, message, detail);
    if (state == "23505") return Status(StatusCode::kAlreadyExists, message, detail);
    if (state.starts_with("23")) return Status(StatusCode::kFailedPrecondition, message, detail);
    if (state.starts_with("42") || state.starts_with("22")) {
      return Status(StatusCode::kInvalidArgument, message, detail);
    }
    if (state.starts_with("08") || state.starts_with("57")) {
      broken_ = true;
      return Status(StatusCode::kUnavailable, message, detail);
    }
    if (state.starts_with("53")) return Status(StatusCode::kResourceExhausted, message, detail);
    return Status(StatusCode::kInternal, message, detail);
  }

  static Value Cell(PGresult* r, int row, int col, Oid type) {
    if (PQgetisnull(r, row, col)) return Value();
    const char* p = PQgetvalue(r, row, col);
    int n = PQgetlength(r, row, col);
    switch (type) {
      case kInt8Oid:
      case kInt4Oid:
      case kInt2Oid: {
        int64_t v = 0;
        std::from_chars(p, p + n, v);
        return Value(v);
      }
      case kBoolOid:
        return Value(int64_t{n > 0 && p[0] == 't' ? 1 : 0});
      case kByteaOid: {
        size_t len = 0;
        unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(p), &len);
        Value v = Value::Blob(std::string(reinterpret_cast<const char*>(bytes), len));
        PQfreemem(bytes);
        return v;
      }
      default:
        return Value(std::string(p, n));
    }
  }

  PGconn* conn_;
  bool broken_ = false;
};

void IgnoreNotice(void*, const char*) {}

}  // namespace

Result<std::unique_ptr<Connection>> OpenPostgres(const std::string& uri,
                                                 const DatabaseOptions& /*options*/) {
  PGconn* conn = PQconnectdb(uri.c_str());
  if (conn == nullptr) return ResourceExhaustedError("connect to PostgreSQL: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    // libpq's message names host and port, never the password.
    std::string message = "connect to PostgreSQL: " + TrimMessage(PQerrorMessage(conn));
    PQfinish(conn);
    return UnavailableError(message);
  }
  // NOTICEs (e.g. "drop cascades to …") would go to stderr.
  PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
  return std::unique_ptr<Connection>(std::make_unique<PostgresConnection>(conn));
}

}  // namespace cairn::sql::internal
