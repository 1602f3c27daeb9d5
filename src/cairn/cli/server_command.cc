// cairn server: the catalog and keepstore(s) in one process on one machine, all state under one
// data directory (DESIGN.md §1: the embedded default). What `make run` starts.
//
// Layout of DATA (created on first start, mode 0700):
//   catalog.db          the catalog (SQLite, WAL), unless --database names PostgreSQL
//   blob-signing.key    the secret shared by catalog and keepstores (mode 0600)
//   admin.token         the admin's token, written once on first start (mode 0600)
//   keep/<i>/           the directory volume of keepstore i (unless --volume names others)
// The catalog listens on --listen; keepstore i on the next ports (PORT+1+i). Keepstores check
// tokens with the catalog directly, in process, and are registered in its keep service registry
// (entries of earlier runs on 127.0.0.1 that no longer match are removed). `--volume SPEC`
// (repeatable) puts keepstore i on the i-th volume instead: a directory, s3://bucket/prefix or
// swift://container/prefix (cli/object_volumes.h; credentials from the environment).
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
#include <vector>

#include "cairn/blockstore/authenticator.h"
#include "cairn/blockstore/gateway.h"
#include "cairn/blockstore/keepstore.h"
#include "cairn/blockstore/keepstore_service.h"
#include "cairn/cli/command.h"
#include "cairn/cli/object_volumes.h"
#include "cairn/common/hash.h"
#include "cairn/http/curl_http_client.h"
#include "cairn/httpd/http_server.h"
#include "cairn/httpd/request_log.h"
#include "cairn/io/env.h"
#include "cairn/metadata/api_handler.h"
#include "cairn/metadata/catalog.h"
#include "cairn/metadata/ids.h"
#include "cairn/sql/database.h"

namespace cairn::cli {
namespace {

struct ServerArgs {
  std::string data;
  std::string listen = "127.0.0.1:9100";
  std::string database;
  std::string cluster_id = "cairn";
  int keepstores = 1;
  bool keepstores_given = false;  // --keepstores was on the command line
  std::vector<std::string> volumes;
  int threads = 8;
};

// Checks tokens for the in-process keepstores by asking the catalog directly (no HTTP).
class DirectAuthenticator final : public blockstore::Authenticator {
 public:
  explicit DirectAuthenticator(metadata::Catalog* catalog) : catalog_(catalog) {}
  Result<blockstore::Caller> Authenticate(std::string_view token) override {
    CAIRN_ASSIGN_OR_RETURN(metadata::Caller caller, catalog_->Authenticate(token));
    return blockstore::Caller{.user_uuid = caller.user.uuid, .is_admin = caller.user.is_admin};
  }

 private:
  metadata::Catalog* const catalog_;
};

void Log(const std::string& line) {
  std::string text =
      FormatUtc(io::Env::Default()->NowUnixSeconds(), "%Y-%m-%dT%H:%M:%SZ") + " " + line + "\n";
  std::fputs(text.c_str(), stderr);  // one call per line: concurrent lines do not interleave
}

// The blob signing key of DATA, created (random, mode 0600) on first start.
Result<std::string> LoadOrCreateKey(const std::string& path) {
  if (::access(path.c_str(), F_OK) != 0) {
    CAIRN_RETURN_IF_ERROR(WriteSecretFile(path, metadata::RandomAlphanumeric(64) + "\n"));
  }
  CAIRN_ASSIGN_OR_RETURN(std::string key, ReadBlobSigningKey(path));
  if (key.size() < 32) {
    return InvalidArgumentError("blob signing key " + path + " is shorter than 32 characters");
  }
  return key;
}

Result<std::pair<std::string, int>> SplitHostPort(const std::string& listen) {
  size_t colon = listen.rfind(':');
  int port = -1;
  if (colon != std::string::npos && colon + 1 < listen.size()) {
    try {
      port = std::stoi(listen.substr(colon + 1));
    } catch (...) {
      port = -1;
    }
  }
  if (colon == std::string::npos || colon == 0 || port < 1 || port > 65535) {
    return InvalidArgumentError("--listen " + listen + ": expected HOST:PORT with a port 1-65535");
  }
  return std::pair<std::string, int>(listen.substr(0, colon), port);
}

// Makes the registry list exactly these keepstores, and the gateway, among those on `host`.
Status RegisterKeepstores(metadata::Catalog* catalog, const std::string& host,
                          const std::vector<int>& ports, int gateway_port) {
  metadata::Caller system;
  system.user.uuid = "system";
  system.user.is_admin = true;
  metadata::Paging paging;
  paging.limit = 1000;
  CAIRN_ASSIGN_OR_RETURN(auto registered, catalog->ListKeepServices(system, paging));
  for (const auto& s : registered.items) {
    bool ours = false;
    for (int p : ports) ours = ours || s.service_port == p;
    ours = ours || (s.service_port == gateway_port && s.service_type == "gateway");
    if (s.service_host == host && !ours) {
      CAIRN_RETURN_IF_ERROR(catalog->RemoveKeepService(system, s.uuid).status());
      Log("cairn server: removed stale keep service " + s.uuid + " at " + host + ":" +
          std::to_string(s.service_port));
    }
  }
  for (int p : ports) {
    metadata::KeepService service;
    service.service_host = host;
    service.service_port = p;
    CAIRN_RETURN_IF_ERROR(catalog->AddKeepService(system, service).status());
  }
  metadata::KeepService gateway;
  gateway.service_host = host;
  gateway.service_port = gateway_port;
  gateway.service_type = "gateway";
  gateway.read_only = true;
  CAIRN_RETURN_IF_ERROR(catalog->AddKeepService(system, gateway).status());
  return Status::OK();
}

Status RunServer(ServerArgs args) {
  if (!args.volumes.empty()) {
    if (args.keepstores_given && args.keepstores != static_cast<int>(args.volumes.size())) {
      return InvalidArgumentError("--keepstores " + std::to_string(args.keepstores) + " but " +
                                  std::to_string(args.volumes.size()) +
                                  " --volume: one keepstore runs on each volume");
    }
    args.keepstores = static_cast<int>(args.volumes.size());
  }
  if (args.keepstores < 1 || args.keepstores > 16) {
    return InvalidArgumentError("--keepstores must be 1..16");
  }
  CAIRN_ASSIGN_OR_RETURN(auto host_port, SplitHostPort(args.listen));
  auto [host, port] = host_port;
  if (port + args.keepstores + 1 > 65535) {
    return InvalidArgumentError("--listen port leaves no room for the keepstores' ports");
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(args.data) / "keep", ec);
  if (ec) return ErrnoError("create data directory " + args.data, ec.value());
  ::chmod(args.data.c_str(), 0700);
  const std::filesystem::path data(args.data);

  BlockTerminationSignals();

  CAIRN_ASSIGN_OR_RETURN(std::string key, LoadOrCreateKey(data / "blob-signing.key"));
  std::string dsn =
      args.database.empty() ? "sqlite:" + (data / "catalog.db").string() : args.database;
  CAIRN_ASSIGN_OR_RETURN(auto db, sql::Database::Open(dsn));
  metadata::CatalogOptions options;
  options.cluster_id = args.cluster_id;
  options.signing.key = key;
  CAIRN_ASSIGN_OR_RETURN(auto catalog, metadata::Catalog::Open(db.get(), options));
  const std::string token_file = (data / "admin.token").string();
  CAIRN_ASSIGN_OR_RETURN(std::optional<std::string> admin, catalog->Bootstrap());
  if (admin.has_value()) {
    CAIRN_RETURN_IF_ERROR(WriteSecretFile(token_file, *admin + "\n"));
    Log("cairn server: created the admin user; its token is in " + token_file + " (mode 0600)");
  }

  DirectAuthenticator authenticator(catalog.get());
  std::vector<std::unique_ptr<blockstore::KeepstoreService>> services;
  std::vector<std::unique_ptr<httpd::HttpServer>> servers;
  std::vector<int> keep_ports;
  auto log_sink = [](const char* who) {
    return [who](const httpd::RequestLogEntry& e) {
      Log(std::string(who) + httpd::FormatRequestLogEntry(e));
    };
  };
  ObjectVolumeClients object_clients;  // declared before the services: destroyed after them
  for (int i = 0; i < args.keepstores; ++i) {
    blockstore::KeepstoreServiceOptions ks;
    if (args.volumes.empty()) {
      ks.volume_dirs = {(data / "keep" / std::to_string(i)).string()};
    } else if (!IsObjectVolume(args.volumes[i])) {
      ks.volume_dirs = {args.volumes[i]};
    } else {
      CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<blockstore::Volume> volume,
                             OpenObjectVolume(args.volumes[i], args.threads + 4, object_clients));
      ks.volumes.push_back(std::move(volume));
    }
    ks.authenticator = &authenticator;
    ks.blob_signing_key = key;
    ks.log = [](std::string_view m) { Log("keepstore: " + std::string(m)); };
    CAIRN_ASSIGN_OR_RETURN(auto service, blockstore::KeepstoreService::Open(std::move(ks)));
    httpd::HttpServerOptions so;
    so.listen = host + ":" + std::to_string(port + 1 + i);
    so.worker_threads = args.threads;
    CAIRN_ASSIGN_OR_RETURN(
        auto server, httpd::HttpServer::Start(
                         so, httpd::WithRequestLog(service->handler(), blockstore::RedactSignatures,
                                                   log_sink("keepstore: "))));
    keep_ports.push_back(server->port());
    services.push_back(std::move(service));
    servers.push_back(std::move(server));
  }
  // The gateway (external-object locators) on the port after the keepstores', reading remotes'
  // credentials from the catalog in process.
  CAIRN_ASSIGN_OR_RETURN(auto gateway_http, http::CurlHttpClient::Create({}));
  blockstore::GatewayOptions gateway_options;
  gateway_options.authenticator = &authenticator;
  gateway_options.blob_signing_key = key;
  gateway_options.blob_signing_ttl_seconds = options.signing.ttl_seconds;
  gateway_options.http = gateway_http.get();
  gateway_options.resolve = [catalog = catalog.get()](
                                manifest::ObjectStoreKind kind,
                                std::string_view bucket) -> Result<blockstore::GatewayRemote> {
    CAIRN_ASSIGN_OR_RETURN(auto found,
                           catalog->GatewayRemoteForBucket(
                               kind == manifest::ObjectStoreKind::kS3 ? "s3" : "swift", bucket));
    return blockstore::GatewayRemote{
        .name = found.first.name,
        .kind = kind,
        .endpoint = found.first.endpoint,
        .region = found.first.region,
        .credentials = {.access_key_id = found.second.access_key_id,
                        .secret_access_key = found.second.secret_access_key,
                        .session_token = found.second.session_token}};
  };
  gateway_options.log = [](std::string_view m) { Log("gateway: " + std::string(m)); };
  CAIRN_ASSIGN_OR_RETURN(auto gateway, blockstore::Gateway::Create(std::move(gateway_options)));
  httpd::HttpServerOptions gateway_server_options;
  gateway_server_options.listen = host + ":" + std::to_string(port + 1 + args.keepstores);
  gateway_server_options.worker_threads = args.threads;
  CAIRN_ASSIGN_OR_RETURN(
      auto gateway_server,
      httpd::HttpServer::Start(
          gateway_server_options,
          httpd::WithRequestLog(gateway->AsHandler(), blockstore::RedactSignatures,
                                log_sink("gateway: "))));
  CAIRN_RETURN_IF_ERROR(
      RegisterKeepstores(catalog.get(), host, keep_ports, gateway_server->port()));

  httpd::HttpServerOptions api_options;
  api_options.listen = args.listen;
  api_options.worker_threads = args.threads;
  CAIRN_ASSIGN_OR_RETURN(
      auto api_server,
      httpd::HttpServer::Start(
          api_options,
          httpd::WithRequestLog(metadata::MakeApiHandler(catalog.get(), {.version = CAIRN_VERSION}),
                                nullptr, log_sink("api: "))));

  std::string keep_list;
  for (int p : keep_ports) keep_list += (keep_list.empty() ? "" : ", ") + std::to_string(p);
  Log("cairn server: catalog on http://" + host + ":" + std::to_string(port) + " (" +
      (db->backend() == sql::Backend::kSqlite ? "SQLite" : "PostgreSQL") + "), keepstore" +
      (keep_ports.size() > 1 ? "s" : "") + " on port " + keep_list + ", data in " + args.data);
  Log("cairn server: to use it:  export CAIRN_API_HOST=" + host + ":" + std::to_string(port) +
      " CAIRN_API_TOKEN=$(cat " + token_file + ")");
  std::fflush(stderr);

  Log(std::string("cairn server: ") + WaitForTerminationSignal() +
      ": finishing requests in progress");
  api_server->Shutdown(std::chrono::seconds(10));
  for (auto& s : servers) s->Shutdown(std::chrono::seconds(10));
  gateway_server->Shutdown(std::chrono::seconds(10));
  Log("cairn server: stopped");
  return Status::OK();
}

}  // namespace

void RegisterServerCommand(CLI::App& app, RunState* state) {
  static ServerArgs args;  // CLI11 binds options by address
  CLI::App* cmd = app.add_subcommand(
      "server", "Run Cairn on this machine: the catalog and keepstore(s), state in one directory");
  cmd->add_option("--data", args.data, "Directory for all state (created if missing)")->required();
  cmd->add_option("--listen", args.listen,
                  "HOST:PORT of the catalog; keepstores take the next ports")
      ->capture_default_str();
  cmd->add_option("--database", args.database,
                  "Catalog database DSN (default: SQLite DATA/catalog.db; or postgresql://…)");
  cmd->add_option("--cluster-id", args.cluster_id, "5 characters [a-z0-9] starting every uuid")
      ->capture_default_str();
  CLI::Option* keepstores =
      cmd->add_option("--keepstores", args.keepstores, "Keepstores to run, each on its own volume")
          ->capture_default_str();
  cmd->add_option("--volume", args.volumes,
                  "Volume of the next keepstore (repeatable; one keepstore each): a directory, "
                  "s3://BUCKET[/PREFIX] or swift://CONTAINER[/PREFIX] with credentials from the "
                  "environment (default: DATA/keep/<i>)");
  cmd->add_option("--threads", args.threads, "Requests each service handles at once")
      ->capture_default_str();
  cmd->footer(
      "On first start it creates DATA, a blob signing key and the admin user, whose token goes\n"
      "to DATA/admin.token (mode 0600). Stops cleanly on SIGINT or SIGTERM.\n"
      "\n"
      "Example:\n"
      "  cairn server --data ~/cairn-data --listen 127.0.0.1:9100\n"
      "  export CAIRN_API_HOST=127.0.0.1:9100 CAIRN_API_TOKEN=$(cat ~/cairn-data/admin.token)\n"
      "  cairn put ./run42 && cairn ls\n"
      "\n"
      "Cairn's blocks in an object store (credentials as the aws / swift CLIs read them):\n"
      "  cairn server --data ~/cairn-data --volume s3://my-bucket/keep\n"
      "\n"
      "The same parts on separate hosts (PostgreSQL for the catalog, copy the key file to every\n"
      "host):\n"
      "  cairn api --listen 10.0.0.1:9100 --database postgresql://cairn@db/cairn \\\n"
      "      --blob-signing-key-file /etc/cairn/blob-signing.key\n"
      "  cairn keepstore --listen 10.0.0.2:25107 --volume /srv/keep0 \\\n"
      "      --blob-signing-key-file /etc/cairn/blob-signing.key --api-host 10.0.0.1:9100\n"
      "  cairn keep-service add 10.0.0.2:25107      # as the admin, once per keepstore");
  cmd->callback([state, keepstores] {
    args.keepstores_given = keepstores->count() > 0;
    Status s = RunServer(args);
    if (!s.ok()) state->exit_code = ReportError(s);
  });
}

}  // namespace cairn::cli
