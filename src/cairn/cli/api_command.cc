// cairn api — the catalog service (DESIGN.md §4, docs/catalog-api.md) on its own.
//
// Opens the database (SQLite file or PostgreSQL DSN), applies the schema migrations, creates the
// admin user on first start (its token goes to a file of mode 0600, whose path is printed), and
// serves the catalog's HTTP API until SIGINT or SIGTERM. One log line per request on stderr
// (method, path, status, bytes, time: never a token).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "cairn/cli/command.h"
#include "cairn/httpd/http_server.h"
#include "cairn/httpd/request_log.h"
#include "cairn/io/env.h"
#include "cairn/metadata/api_handler.h"
#include "cairn/metadata/catalog.h"
#include "cairn/sql/database.h"

namespace cairn::cli {
namespace {

struct ApiArgs {
  std::string listen = "127.0.0.1:9100";
  std::string database;
  std::string key_file;
  std::string cluster_id = "cairn";
  std::string admin_token_file;
  int workers = 8;
};

// Where the admin token goes when --admin-token-file is not given: next to a SQLite database,
// else in the current directory.
std::string DefaultAdminTokenFile(const std::string& dsn) {
  if (dsn.starts_with("postgresql://") || dsn.starts_with("postgres://")) return "admin.token";
  std::string path = dsn.starts_with("sqlite:") ? dsn.substr(7) : dsn;
  std::filesystem::path dir = std::filesystem::path(path).parent_path();
  return dir.empty() ? "admin.token" : (dir / "admin.token").string();
}

int RunApi(const ApiArgs& args) {
  BlockTerminationSignals();
  Result<std::string> key = ReadBlobSigningKey(args.key_file);
  if (!key.ok()) return ReportError(key.status());
  Result<std::unique_ptr<sql::Database>> db = sql::Database::Open(args.database);
  if (!db.ok()) return ReportError(db.status());
  metadata::CatalogOptions options;
  options.cluster_id = args.cluster_id;
  options.signing.key = *key;
  Result<metadata::CatalogService> service =
      metadata::MakeCatalogService(db->get(), options, {.version = CAIRN_VERSION});
  if (!service.ok()) return ReportError(service.status());
  Result<std::optional<std::string>> admin = service->catalog->Bootstrap();
  if (!admin.ok()) return ReportError(admin.status());
  if (admin->has_value()) {
    std::string path = args.admin_token_file.empty() ? DefaultAdminTokenFile(args.database)
                                                     : args.admin_token_file;
    Status written = WriteSecretFile(path, **admin + "\n");
    if (!written.ok()) return ReportError(written);
    std::fprintf(stderr, "cairn api: created the admin user; its token is in %s (mode 0600)\n",
                 path.c_str());
  }

  std::mutex log_mu;
  httpd::Handler handler = httpd::WithRequestLog(
      std::move(service->handler), nullptr, [&log_mu](const httpd::RequestLogEntry& entry) {
        std::string line = "cairn api: " + httpd::FormatRequestLogEntry(entry) + "\n";
        std::lock_guard<std::mutex> lock(log_mu);
        std::fputs(line.c_str(), stderr);
      });
  httpd::HttpServerOptions server_options;
  server_options.listen = args.listen;
  server_options.worker_threads = args.workers;
  Result<std::unique_ptr<httpd::HttpServer>> server =
      httpd::HttpServer::Start(server_options, std::move(handler));
  if (!server.ok()) return ReportError(server.status());
  std::string host = args.listen.substr(0, args.listen.rfind(':'));
  std::fprintf(stderr, "cairn api: cluster %s, database %s, listening on %s:%u\n",
               args.cluster_id.c_str(),
               (*db)->backend() == sql::Backend::kSqlite ? "SQLite" : "PostgreSQL", host.c_str(),
               static_cast<unsigned>((*server)->port()));

  std::fprintf(stderr, "cairn api: %s, shutting down\n", WaitForTerminationSignal());
  // Requests in progress get a few seconds to finish.
  (*server)->Shutdown(std::chrono::seconds(10));
  return kExitOk;
}

}  // namespace

Status WriteSecretFile(const std::string& path, std::string_view contents) {
  // Created with mode 0600 from the start (never readable by others, even for a moment), then
  // renamed over `path`.
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("create " + tmp, errno);
  Status s;
  if (::fchmod(fd, 0600) != 0) s = ErrnoError("chmod " + tmp, errno);
  while (s.ok() && !contents.empty()) {
    ssize_t n = ::write(fd, contents.data(), contents.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      s = ErrnoError("write " + tmp, errno);
      break;
    }
    contents.remove_prefix(static_cast<size_t>(n));
  }
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoError("fsync " + tmp, errno);
  if (::close(fd) != 0 && s.ok()) s = ErrnoError("close " + tmp, errno);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0)
    s = ErrnoError("rename to " + path, errno);
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

void RegisterApiCommand(CLI::App& app, RunState* state) {
  auto args = std::make_shared<ApiArgs>();
  CLI::App* api = app.add_subcommand(
      "api",
      "Run the catalog service: collections, users, tokens, permissions, keep services\n"
      "(JSON over HTTP, docs/catalog-api.md)");
  api->add_option("--listen", args->listen, "HOST:PORT to serve on (port 0: any free port)")
      ->capture_default_str();
  api->add_option("--database", args->database,
                  "SQLite file (or sqlite:PATH; created if missing) or postgresql://… DSN")
      ->required();
  api->add_option("--blob-signing-key-file", args->key_file,
                  "File holding the key shared with the keepstores (signs block locators)")
      ->required();
  api->add_option("--cluster-id", args->cluster_id, "5 characters [a-z0-9] starting every uuid")
      ->capture_default_str();
  api->add_option("--admin-token-file", args->admin_token_file,
                  "Where the first start writes the admin token (mode 0600; default: beside a\n"
                  "SQLite database, else ./admin.token)");
  api->add_option("--workers", args->workers, "Requests handled at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  api->footer(
      "Examples:\n"
      "  head -c 48 /dev/urandom | base64 > key && chmod 600 key\n"
      "  cairn api --listen 127.0.0.1:9100 --database /var/lib/cairn/catalog.db \\\n"
      "      --blob-signing-key-file key\n"
      "  cairn api --database postgresql://cairn@db.example/cairn --blob-signing-key-file key\n"
      "\n"
      "SIGINT or SIGTERM stop it cleanly (requests in progress may finish).");
  api->callback([args, state] { state->exit_code = RunApi(*args); });
}

}  // namespace cairn::cli
