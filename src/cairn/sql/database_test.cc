// The Database conformance suite: every test runs on SQLite and, when CAIRN_TEST_POSTGRES_DSN
// names a throwaway server (scripts/postgres), on PostgreSQL. Built with
// CAIRN_TEST_POSTGRES_ONLY (tests/integration), it runs on PostgreSQL only and fails without one.
#include "cairn/sql/database.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "cairn/sql/migrations.h"
#include "cairn/sql/scratch_database.h"
#include "cairn/sql/sql_internal.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::sql {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;

std::string PostgresDsn() {
  const char* dsn = std::getenv("CAIRN_TEST_POSTGRES_DSN");
  return dsn != nullptr ? dsn : "";
}

class DatabaseTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string target;
    if (GetParam() == Backend::kPostgres) {
      target = PostgresDsn();
#ifndef CAIRN_TEST_POSTGRES_ONLY
      if (target.empty()) GTEST_SKIP() << "CAIRN_TEST_POSTGRES_DSN is not set";
#endif
    } else {
      dir_ =
          std::filesystem::temp_directory_path() / ("cairn-sql-test-" + std::to_string(::getpid()));
      std::filesystem::create_directories(dir_);
      target = (dir_ / "test.db").string();
    }
    DatabaseOptions options;
    options.max_connections = 4;
    auto db = OpenScratchDatabase(GetParam(), target, options);
    ASSERT_OK(db);
    db_ = std::move(db).value();
  }
  void TearDown() override {
    db_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::string BlobType() const { return GetParam() == Backend::kSqlite ? "BLOB" : "BYTEA"; }

  std::filesystem::path dir_;
  std::unique_ptr<Database> db_;
};

#ifndef CAIRN_TEST_POSTGRES_ONLY  // backend-independent: in the unit test binary only
TEST(PlaceholderTest, RewritesQuestionMarksOutsideQuotesAndComments) {
  EXPECT_EQ(internal::ToDollarPlaceholders("SELECT a FROM t WHERE b = ? AND c = ?"),
            "SELECT a FROM t WHERE b = $1 AND c = $2");
  EXPECT_EQ(internal::ToDollarPlaceholders("SELECT '?', 'it''s ?', \"q?\" -- ?\n, ?"),
            "SELECT '?', 'it''s ?', \"q?\" -- ?\n, $1");
  EXPECT_EQ(internal::ToDollarPlaceholders("no params"), "no params");
}
#endif

TEST_P(DatabaseTest, ValuesRoundTripWithTheirTypes) {
  ASSERT_OK(
      db_->Execute("CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT, s TEXT, b " + BlobType() + ")"));
  std::string utf8 = "caf\xc3\xa9 'quoted' \"double\" ? ; -- not a comment";
  std::string bytes("\x00\x01\xff\x7f", 4);
  ASSERT_OK(db_->Execute("INSERT INTO t (k, n, s, b) VALUES (?, ?, ?, ?)",
                         {"a", int64_t{-9'000'000'000'000}, utf8, Value::Blob(bytes)}));
  ASSERT_OK(db_->Execute("INSERT INTO t (k, n, s, b) VALUES (?, ?, ?, ?)",
                         {"b", nullptr, std::optional<std::string>(), Value()}));
  ASSERT_OK_AND_ASSIGN(Rows rows, db_->Query("SELECT k, n, s, b FROM t ORDER BY k"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.columns, (std::vector<std::string>{"k", "n", "s", "b"}));
  EXPECT_EQ(rows[0][0].text(), "a");
  EXPECT_EQ(rows[0][1].type(), ValueType::kInt64);
  EXPECT_EQ(rows[0][1].int64(), -9'000'000'000'000);
  EXPECT_EQ(rows[0][2].type(), ValueType::kText);
  EXPECT_EQ(rows[0][2].text(), utf8);
  EXPECT_EQ(rows[0][3].type(), ValueType::kBlob);
  EXPECT_EQ(rows[0][3].bytes(), bytes);
  EXPECT_TRUE(rows[1][1].is_null());
  EXPECT_EQ(rows[1][1].optional_int64(), std::nullopt);
  EXPECT_TRUE(rows[1][2].is_null());
  EXPECT_TRUE(rows[1][3].is_null());
}

TEST_P(DatabaseTest, AggregatesAndLimitParametersAreIntegers) {
  ASSERT_OK(db_->Execute("CREATE TABLE t (n BIGINT NOT NULL)"));
  for (int i = 1; i <= 5; ++i) ASSERT_OK(db_->Execute("INSERT INTO t (n) VALUES (?)", {i}));
  ASSERT_OK_AND_ASSIGN(Rows rows, db_->Query("SELECT COUNT(*), SUM(n), MAX(n) FROM t"));
  EXPECT_EQ(rows[0][0].int64(), 5);
  EXPECT_EQ(rows[0][1].int64(), 15);
  EXPECT_EQ(rows[0][2].int64(), 5);
  ASSERT_OK_AND_ASSIGN(Rows page,
                       db_->Query("SELECT n FROM t ORDER BY n LIMIT ? OFFSET ?", {2, 3}));
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0][0].int64(), 4);
  EXPECT_EQ(page[1][0].int64(), 5);
}

TEST_P(DatabaseTest, ExecuteCountsChangedRows) {
  ASSERT_OK(db_->Execute("CREATE TABLE t (n BIGINT NOT NULL)"));
  for (int i = 0; i < 3; ++i) ASSERT_OK(db_->Execute("INSERT INTO t (n) VALUES (?)", {i}));
  ASSERT_OK_AND_ASSIGN(int64_t changed, db_->Execute("UPDATE t SET n = n + 10 WHERE n >= ?", {1}));
  EXPECT_EQ(changed, 2);
}

TEST_P(DatabaseTest, UncommittedTransactionRollsBack) {
  ASSERT_OK(db_->Execute("CREATE TABLE t (n BIGINT NOT NULL)"));
  {
    ASSERT_OK_AND_ASSIGN(Transaction tx, db_->Begin(TransactionMode::kWrite));
    ASSERT_OK(tx.Execute("INSERT INTO t (n) VALUES (1)"));
  }  // destroyed without Commit
  {
    ASSERT_OK_AND_ASSIGN(Transaction tx, db_->Begin(TransactionMode::kWrite));
    ASSERT_OK(tx.Execute("INSERT INTO t (n) VALUES (2)"));
    ASSERT_OK(tx.Commit());
    EXPECT_THAT(tx.Execute("INSERT INTO t (n) VALUES (3)"),
                StatusIs(StatusCode::kFailedPrecondition));
  }
  ASSERT_OK_AND_ASSIGN(Rows rows, db_->Query("SELECT n FROM t"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].int64(), 2);
}

TEST_P(DatabaseTest, RunInTransactionRollsBackOnError) {
  ASSERT_OK(db_->Execute("CREATE TABLE t (n BIGINT NOT NULL)"));
  Status s = db_->RunInTransaction(TransactionMode::kWrite, [](Transaction& tx) {
    CAIRN_RETURN_IF_ERROR(tx.Execute("INSERT INTO t (n) VALUES (1)"));
    return NotFoundError("changed my mind");
  });
  EXPECT_THAT(s, StatusIs(StatusCode::kNotFound));
  ASSERT_OK_AND_ASSIGN(Rows rows, db_->Query("SELECT COUNT(*) FROM t"));
  EXPECT_EQ(rows[0][0].int64(), 0);
}

TEST_P(DatabaseTest, ConstraintViolationsHaveTheirCodes) {
  ASSERT_OK(db_->Execute("CREATE TABLE p (k TEXT PRIMARY KEY)"));
  ASSERT_OK(db_->Execute("CREATE TABLE c (k TEXT NOT NULL REFERENCES p(k), u TEXT UNIQUE)"));
  ASSERT_OK(db_->Execute("INSERT INTO p (k) VALUES (?)", {"x"}));
  EXPECT_THAT(db_->Execute("INSERT INTO p (k) VALUES (?)", {"x"}),
              StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(db_->Execute("INSERT INTO c (k, u) VALUES (?, ?)", {"missing", "1"}),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(db_->Execute("INSERT INTO c (k, u) VALUES (?, ?)", {nullptr, "1"}),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(db_->Query("SELEKT 1"), StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(DatabaseTest, UpsertWorksOnBoth) {
  ASSERT_OK(
      db_->Execute("CREATE TABLE g (a TEXT NOT NULL, b TEXT NOT NULL, lvl BIGINT NOT NULL, "
                   "UNIQUE (a, b))"));
  constexpr std::string_view kUpsert =
      "INSERT INTO g (a, b, lvl) VALUES (?, ?, ?) ON CONFLICT (a, b) DO UPDATE SET lvl = "
      "excluded.lvl";
  ASSERT_OK(db_->Execute(kUpsert, {"x", "y", 1}));
  ASSERT_OK(db_->Execute(kUpsert, {"x", "y", 3}));
  ASSERT_OK_AND_ASSIGN(Rows rows, db_->Query("SELECT lvl FROM g"));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0].int64(), 3);
}

// Many writers racing on one row: conflicts are retried, no increment is lost, and the pool
// (4 connections) serves 8 threads.
TEST_P(DatabaseTest, ConcurrentWritersRetryAndLoseNothing) {
  ASSERT_OK(db_->Execute("CREATE TABLE counter (k TEXT PRIMARY KEY, n BIGINT NOT NULL)"));
  ASSERT_OK(db_->Execute("INSERT INTO counter (k, n) VALUES ('c', 0)"));
  constexpr int kThreads = 8, kIncrements = 25;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        Status s = db_->RunInTransaction(TransactionMode::kWrite, [](Transaction& tx) {
          CAIRN_ASSIGN_OR_RETURN(Rows r, tx.Query("SELECT n FROM counter WHERE k = 'c'"));
          return tx.Execute("UPDATE counter SET n = ? WHERE k = 'c'", {r[0][0].int64() + 1})
              .status();
        });
        if (!s.ok()) {
          ADD_FAILURE() << s;
          ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  ASSERT_OK_AND_ASSIGN(Rows rows, db_->Query("SELECT n FROM counter"));
  EXPECT_EQ(rows[0][0].int64(), kThreads * kIncrements);
}

constexpr Migration kMigrations[] = {
    {.version = 1,
     .name = "init",
     .sql = "CREATE TABLE a (k TEXT PRIMARY KEY); "
            "CREATE TABLE b (k TEXT PRIMARY KEY)"},
    {.version = 2, .name = "more", .sql = "CREATE INDEX a_k ON a(k); INSERT INTO b VALUES ('x')"},
};

TEST_P(DatabaseTest, MigrationsApplyOnceInOrder) {
  ASSERT_OK_AND_ASSIGN(int64_t v0, SchemaVersion(*db_));
  EXPECT_EQ(v0, 0);
  ASSERT_OK_AND_ASSIGN(int n, ApplyMigrations(*db_, std::span(kMigrations).first(1), 100));
  EXPECT_EQ(n, 1);
  ASSERT_OK_AND_ASSIGN(n, ApplyMigrations(*db_, kMigrations, 200));
  EXPECT_EQ(n, 1);
  ASSERT_OK_AND_ASSIGN(n, ApplyMigrations(*db_, kMigrations, 300));
  EXPECT_EQ(n, 0);
  ASSERT_OK_AND_ASSIGN(Rows rows,
                       db_->Query("SELECT version, name, applied_at FROM schema_migrations "
                                  "ORDER BY version"));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][1].text(), "init");
  EXPECT_EQ(rows[0][2].int64(), 100);
  EXPECT_EQ(rows[1][2].int64(), 200);
  ASSERT_OK_AND_ASSIGN(Rows b, db_->Query("SELECT k FROM b"));
  EXPECT_EQ(b.size(), 1u);
  // A binary that knows only migration 1 refuses the newer database.
  EXPECT_THAT(ApplyMigrations(*db_, std::span(kMigrations).first(1), 400),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("newer")));
}

TEST_P(DatabaseTest, FailedMigrationLeavesNothingBehind) {
  const Migration bad[] = {
      {.version = 1, .name = "half", .sql = "CREATE TABLE z (k TEXT); CREATE TABLE z (k TEXT)"}};
  EXPECT_FALSE(ApplyMigrations(*db_, bad, 1).ok());
  ASSERT_OK_AND_ASSIGN(int64_t v, SchemaVersion(*db_));
  EXPECT_EQ(v, 0);
  // Table z was rolled back with the migration, so it can be created now.
  ASSERT_OK(db_->Execute("CREATE TABLE z (k TEXT)"));
}

TEST_P(DatabaseTest, MisnumberedMigrationsAreRejected) {
  const Migration gap[] = {{.version = 1, .name = "a", .sql = "SELECT 1"},
                           {.version = 3, .name = "c", .sql = "SELECT 1"}};
  EXPECT_THAT(ApplyMigrations(*db_, gap, 1), StatusIs(StatusCode::kInvalidArgument));
}

TEST_P(DatabaseTest, WrongParameterCountIsAnError) {
  ASSERT_OK(db_->Execute("CREATE TABLE t (n BIGINT)"));
  EXPECT_FALSE(db_->Execute("INSERT INTO t (n) VALUES (?)", {1, 2}).ok());
}

#ifndef CAIRN_TEST_POSTGRES_ONLY
TEST(DatabaseOpenTest, BadDsnsFailClearly) {
  EXPECT_THAT(Database::Open("sqlite:/nonexistent-dir/x/y.db"),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("/nonexistent-dir/x/y.db")));
  EXPECT_THAT(Database::Open("sqlite::memory:"), StatusIs(StatusCode::kInvalidArgument));
  // Nothing listens on port 1.
  auto pg = Database::Open("postgresql://nobody:secret-password@127.0.0.1:1/db");
  EXPECT_THAT(pg, StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(std::string(pg.status().message()), ::testing::Not(HasSubstr("secret-password")));
}
#endif

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

#ifdef CAIRN_TEST_POSTGRES_ONLY
INSTANTIATE_TEST_SUITE_P(Integration, DatabaseTest, ::testing::Values(Backend::kPostgres),
                         BackendName);
#else
INSTANTIATE_TEST_SUITE_P(Backends, DatabaseTest,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres), BackendName);
#endif

}  // namespace
}  // namespace cairn::sql
