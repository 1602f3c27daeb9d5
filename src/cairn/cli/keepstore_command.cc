// cairn keepstore: the Keep block server over directory volumes and object-store volumes
// (s3://bucket/prefix, swift://container/prefix; DESIGN.md §3, docs/volumes.md).
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/blockstore/authenticator.h"
#include "cairn/blockstore/gateway.h"
#include "cairn/blockstore/gateway_remotes.h"
#include "cairn/blockstore/keepstore.h"
#include "cairn/blockstore/keepstore_service.h"
#include "cairn/cli/command.h"
#include "cairn/cli/obj_transfer_commands.h"
#include "cairn/cli/object_volumes.h"
#include "cairn/http/curl_http_client.h"
#include "cairn/httpd/http_server.h"
#include "cairn/httpd/request_log.h"
#include "cairn/io/env.h"

namespace cairn::cli {
namespace {

struct KeepstoreArgs {
  std::string listen;
  std::vector<std::string> volumes;
  std::string key_file;
  std::string api_host;
  int threads = 8;
  int max_requests = 64;
  double auth_cache_seconds = 5;
  int64_t signing_ttl = int64_t{14} * 24 * 3600;
  double grace_seconds = 10;
  bool gateway = false;    // serve external-object locators instead of volumes
  std::string token_file;  // --gateway: an admin token, to read remotes' credentials
};

std::string Now() { return FormatUtc(io::Env::Default()->NowUnixSeconds(), "%Y-%m-%dT%H:%M:%SZ"); }

void LogLine(const std::string& line) {
  // One fprintf per line: lines from concurrent requests do not interleave.
  std::fprintf(stderr, "%s %s\n", Now().c_str(), line.c_str());
}

Status RunKeepstore(const KeepstoreArgs& args) {
  if (args.threads < 1 || args.max_requests < 1) {
    return InvalidArgumentError("--threads and --max-requests must be at least 1");
  }
  BlockTerminationSignals();
  CAIRN_ASSIGN_OR_RETURN(std::string key, ReadBlobSigningKey(args.key_file));
  std::string api_url = args.api_host;
  if (!api_url.starts_with("http://") && !api_url.starts_with("https://")) {
    api_url = "http://" + api_url;
  }
  http::CurlHttpClientOptions client_options;
  client_options.max_connections_per_endpoint = 4;
  client_options.connect_timeout = std::chrono::milliseconds(5000);
  CAIRN_ASSIGN_OR_RETURN(auto client, http::CurlHttpClient::Create(client_options));
  blockstore::CatalogAuthenticatorOptions auth_options;
  auth_options.api_url = api_url;
  auth_options.cache_ttl =
      std::chrono::milliseconds(static_cast<int64_t>(args.auth_cache_seconds * 1000));
  blockstore::CatalogAuthenticator authenticator(client.get(), io::Env::Default(), auth_options);

  // --gateway: external-object locators, remotes' credentials from the catalog (admin token).
  std::unique_ptr<blockstore::CatalogRemoteResolver> resolver;
  std::unique_ptr<blockstore::Gateway> gateway;
  if (args.gateway) {
    if (!args.volumes.empty()) return InvalidArgumentError("--gateway takes no --volume");
    std::string admin_token;
    if (!args.token_file.empty()) {
      CAIRN_ASSIGN_OR_RETURN(admin_token, ResolveToken("", args.token_file));
    }
    if (admin_token.empty()) return InvalidArgumentError("--gateway needs --token-file (admin)");
    resolver = std::make_unique<blockstore::CatalogRemoteResolver>(
        client.get(), io::Env::Default(),
        blockstore::CatalogRemoteResolverOptions{.api_url = api_url,
                                                 .admin_token = admin_token,
                                                 .cache_ttl = std::chrono::seconds(30),
                                                 .request_timeout = std::chrono::seconds(10)});
    blockstore::GatewayOptions gateway_options;
    gateway_options.authenticator = &authenticator;
    gateway_options.blob_signing_key = key;
    gateway_options.blob_signing_ttl_seconds = args.signing_ttl;
    gateway_options.resolve = resolver->AsResolver();
    gateway_options.http = client.get();
    gateway_options.log = [](std::string_view m) { LogLine("gateway: " + std::string(m)); };
    CAIRN_ASSIGN_OR_RETURN(gateway, blockstore::Gateway::Create(std::move(gateway_options)));
  } else if (args.volumes.empty()) {
    return InvalidArgumentError("--volume is required (or --gateway)");
  }
  blockstore::KeepstoreServiceOptions service_options;
  ObjectVolumeClients object_clients;  // declared before the service: destroyed after it
  for (const std::string& spec : args.volumes) {
    if (!IsObjectVolume(spec)) {
      service_options.volume_dirs.push_back(spec);
      continue;
    }
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<blockstore::Volume> volume,
                           OpenObjectVolume(spec, args.threads + 4, object_clients));
    service_options.volumes.push_back(std::move(volume));
  }
  service_options.authenticator = &authenticator;
  service_options.blob_signing_key = key;
  service_options.blob_signing_ttl_seconds = args.signing_ttl;
  service_options.log = [](std::string_view m) { LogLine("keepstore: " + std::string(m)); };
  std::unique_ptr<blockstore::KeepstoreService> service;
  if (!gateway) {
    CAIRN_ASSIGN_OR_RETURN(service, blockstore::KeepstoreService::Open(std::move(service_options)));
  }

  httpd::HttpServerOptions server_options;
  server_options.listen = args.listen;
  server_options.worker_threads = args.threads;
  server_options.max_queued_requests = static_cast<size_t>(args.max_requests);
  httpd::Handler handler = httpd::WithRequestLog(
      gateway ? gateway->AsHandler() : service->handler(), blockstore::RedactSignatures,
      [](const httpd::RequestLogEntry& e) { LogLine(httpd::FormatRequestLogEntry(e)); });
  CAIRN_ASSIGN_OR_RETURN(auto server, httpd::HttpServer::Start(server_options, handler));

  std::string volumes;
  if (gateway) volumes = " none (gateway)";
  for (size_t i = 0; service && i < service->volumes().size(); ++i) {
    const auto& v = service->volumes()[i];
    volumes += " " + v->root() + " (" + v->uuid() + ")";
  }
  for (size_t i = 0; service && i < service->other_volumes().size(); ++i) {
    const auto& v = service->other_volumes()[i];
    volumes += " " + v->Mount().device_id + " (" + v->uuid() + ")";
  }
  size_t colon = args.listen.rfind(':');
  LogLine("cairn keepstore: listening on " + args.listen.substr(0, colon) + ":" +
          std::to_string(server->port()) + "; volumes:" + volumes + "; catalog " + api_url);
  std::fflush(stderr);

  LogLine(std::string("cairn keepstore: ") + WaitForTerminationSignal() +
          ": finishing requests in progress");
  server->Shutdown(std::chrono::milliseconds(static_cast<int64_t>(args.grace_seconds * 1000)));
  LogLine("cairn keepstore: stopped");
  return Status::OK();
}

}  // namespace

void RegisterKeepstoreCommand(CLI::App& app, RunState* state) {
  static KeepstoreArgs args;  // CLI11 binds options by address
  CLI::App* cmd = app.add_subcommand(
      "keepstore", "Run a Keep block server over local directories or S3/Swift buckets");
  cmd->add_option("--listen", args.listen, "Address to serve on, HOST:PORT (port 0: any free)")
      ->required();
  cmd->add_option("--volume", args.volumes,
                  "A directory, s3://bucket[/prefix] or swift://container[/prefix] to keep "
                  "blocks in (repeat for more)");
  cmd->add_flag("--gateway", args.gateway,
                "Serve external-object locators (imported S3 objects) instead of volumes");
  cmd->add_option("--token-file", args.token_file,
                  "--gateway: file holding an admin token, to read remotes' credentials");
  cmd->add_option("--blob-signing-key-file", args.key_file,
                  "File holding the blob signing key shared with the catalog")
      ->required();
  cmd->add_option("--api-host", args.api_host,
                  "The catalog, HOST:PORT or a URL: tokens are checked with GET /v1/users/current")
      ->required();
  cmd->add_option("--threads", args.threads, "Requests handled at once")->capture_default_str();
  cmd->add_option("--max-requests", args.max_requests,
                  "Requests waiting for a thread; past this, 503 at once")
      ->capture_default_str();
  cmd->add_option("--auth-cache-ttl", args.auth_cache_seconds,
                  "Seconds a token the catalog accepted is trusted without asking again")
      ->capture_default_str();
  cmd->add_option("--blob-signing-ttl", args.signing_ttl,
                  "Seconds a signature is valid (must match the catalog's)")
      ->capture_default_str();
  cmd->add_option("--shutdown-grace", args.grace_seconds,
                  "Seconds to let requests in progress finish after SIGINT/SIGTERM")
      ->capture_default_str();
  cmd->footer(
      "Serves the Arvados-compatible Keep block API: PUT /<md5>, GET|HEAD /<signed locator>,\n"
      "DELETE /<md5> (admin), GET /index[/<prefix>] (admin), GET /mounts (admin),\n"
      "GET /_health/ping. Logs one line per request on stderr (signatures and tokens never\n"
      "appear). Stops cleanly on SIGINT or SIGTERM.\n"
      "\n"
      "Object-store volumes keep each block as the object <prefix>/<abc>/<md5>: s3:// finds\n"
      "credentials, region and endpoint as the aws CLI does (AWS_* variables, ~/.aws files),\n"
      "swift:// as the swift CLI does (ST_AUTH, ST_USER, ST_KEY or OS_* variables); the bucket\n"
      "is made if missing. See docs/volumes.md.\n"
      "\n"
      "Example:\n"
      "  cairn keepstore --listen 127.0.0.1:25107 --volume /srv/keep0 --volume /srv/keep1 \\\n"
      "      --blob-signing-key-file /etc/cairn/blob-signing.key --api-host 127.0.0.1:9000\n"
      "  cairn keepstore --listen 127.0.0.1:25108 --volume s3://keep-blocks/cluster1 \\\n"
      "      --blob-signing-key-file /etc/cairn/blob-signing.key --api-host 127.0.0.1:9000");
  cmd->callback([state] {
    Status s = RunKeepstore(args);
    if (!s.ok()) state->exit_code = ReportError(s);
  });
}

}  // namespace cairn::cli
