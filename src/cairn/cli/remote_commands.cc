// cairn remote add | ls | rm — object stores whose buckets collections may name
// (docs/catalog-api.md "Remotes") — and cairn import s3://bucket/prefix (or swift://…): a
// collection of external-object locators for every object under a prefix, without reading object
// data (DESIGN.md §3).
//
// Settings as for cairn put/get (CAIRN_API_HOST, CAIRN_API_TOKEN, --api-host, --token-file).
// Cloud credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (/ AWS_SESSION_TOKEN) or a
// --profile in ~/.aws, never from argv, and are never printed.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cairn/cli/command.h"
#include "cairn/cli/obj_transfer_commands.h"
#include "cairn/client/catalog_client.h"
#include "cairn/http/curl_http_client.h"
#include "cairn/io/env.h"
#include "cairn/manifest/external.h"
#include "cairn/manifest/file_list_writer.h"
#include "cairn/manifest/manifest.h"
#include "cairn/objstore/object_store.h"
#include "cairn/objstore/s3/client.h"
#include "cairn/objstore/s3/s3_object_store.h"
#include "cairn/objstore/s3/settings.h"
#include "cairn/objstore/swift/client.h"
#include "cairn/objstore/swift/settings.h"
#include "cairn/objstore/swift/swift_object_store.h"

extern char** environ;

namespace cairn::cli {
namespace {

using Json = nlohmann::json;

struct RemoteArgs {
  std::string api_host;
  std::string token_file;
  std::string name;
  std::string kind = "s3";
  std::string endpoint;
  std::string region;
  std::string buckets;
  std::string profile;
  std::string source;  // import: s3://bucket/prefix
  std::string remote;  // import: the remote to use (default: the one holding the bucket)
};

// A JSON call to the catalog with the user's token.
class Api {
 public:
  static Result<Api> Connect(const RemoteArgs& args) {
    std::string host = args.api_host;
    if (host.empty()) {
      CAIRN_ASSIGN_OR_RETURN(host, ClientSetting("CAIRN_API_HOST"));
    }
    if (host.empty()) return InvalidArgumentError("no API host: set CAIRN_API_HOST or --api-host");
    Api api;
    if (!args.token_file.empty()) {
      CAIRN_ASSIGN_OR_RETURN(api.token_, ResolveToken("", args.token_file));
    } else {
      CAIRN_ASSIGN_OR_RETURN(api.token_, ClientSetting("CAIRN_API_TOKEN"));
    }
    if (api.token_.empty()) {
      return InvalidArgumentError("no API token: set CAIRN_API_TOKEN or --token-file");
    }
    CAIRN_ASSIGN_OR_RETURN(api.base_url_, client::ApiBaseUrl(host));
    CAIRN_ASSIGN_OR_RETURN(
        api.http_, http::CurlHttpClient::Create({.connect_timeout = std::chrono::seconds(5)}));
    return api;
  }

  Result<Json> Call(std::string_view method, const std::string& path, const Json& body,
                    std::string_view what) {
    if (body.is_null()) return CallText(method, path, nullptr, what);
    const std::string text = body.dump();
    return CallText(method, path, &text, what);
  }

  // The same with the body's JSON text already made (nullptr: no body).
  Result<Json> CallText(std::string_view method, const std::string& path, const std::string* body,
                        std::string_view what) {
    http::HttpRequest request;
    request.method = std::string(method);
    request.url = base_url_ + path;
    request.headers.emplace_back("Authorization", "Bearer " + token_);
    if (body != nullptr) {
      request.headers.emplace_back("Content-Type", "application/json");
      request.body = http::RequestBody::FromBytes(*body);
    }
    request.timeout = std::chrono::minutes(10);
    CAIRN_ASSIGN_OR_RETURN(http::HttpResponse response,
                           http_->Send(request, http::ResponseBody::Collect(size_t{1} << 30)));
    Json reply = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    if (response.status_code >= 200 && response.status_code < 300 && reply.is_object()) {
      return reply;
    }
    Status status = http::HttpStatusToStatus(response.status_code, what);
    if (reply.is_object() && reply.contains("errors") && reply["errors"].is_array() &&
        !reply["errors"].empty() && reply["errors"][0].is_string()) {
      return Status(status.code(),
                    std::string(what) + ": " + reply["errors"][0].get<std::string>());
    }
    return status;
  }

 private:
  std::string base_url_;
  std::string token_;
  std::unique_ptr<http::CurlHttpClient> http_;
};

// Members of the catalog's replies, without throwing on an unexpected type.
std::string Str(const Json& j, const char* key) {
  auto it = j.is_object() ? j.find(key) : j.end();
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
const Json& Array(const Json& j, const char* key) {
  static const Json* const kEmpty = new Json(Json::array());
  auto it = j.is_object() ? j.find(key) : j.end();
  return it != j.end() && it->is_array() ? *it : *kEmpty;
}

std::string Getenv(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

Result<std::string> ReadOptionalFile(const std::string& path) {
  Result<std::unique_ptr<io::FileContents>> contents = io::Env::Default()->ReadFile(path);
  if (!contents.ok()) {
    if (contents.status().code() == StatusCode::kNotFound) return std::string();
    return contents.status();
  }
  return std::string((*contents)->data());
}

// S3 settings as the aws CLI finds them (environment, --profile, ~/.aws), with `endpoint` and
// `region` when given.
Result<objstore::s3::S3Settings> ResolveS3(const std::string& profile, const std::string& endpoint,
                                           const std::string& region) {
  objstore::s3::S3SettingsInput input;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view var(*e);
    size_t eq = var.find('=');
    if (var.starts_with("AWS_") && eq != std::string_view::npos) {
      input.environment.emplace(std::string(var.substr(0, eq)), std::string(var.substr(eq + 1)));
    }
  }
  if (!profile.empty()) input.profile = profile;
  if (!endpoint.empty()) input.endpoint_url = endpoint;
  if (!region.empty()) input.region = region;
  std::string aws_dir = Getenv("HOME") + "/.aws/";
  auto file = [&](const char* variable, const char* name) {
    auto it = input.environment.find(variable);
    return it != input.environment.end() ? it->second : aws_dir + name;
  };
  input.credentials_file_name = file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  input.config_file_name = file("AWS_CONFIG_FILE", "config");
  CAIRN_ASSIGN_OR_RETURN(input.credentials_file_text,
                         ReadOptionalFile(input.credentials_file_name));
  CAIRN_ASSIGN_OR_RETURN(input.config_file_text, ReadOptionalFile(input.config_file_name));
  return objstore::s3::ResolveS3Settings(input);
}

// Swift settings as the swift CLI finds them (ST_* or OS_* variables).
Result<objstore::swift::SwiftSettings> ResolveSwift() {
  objstore::swift::SwiftEnvironment environment;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view var(*e);
    size_t eq = var.find('=');
    if ((var.starts_with("ST_") || var.starts_with("OS_")) && eq != std::string_view::npos) {
      environment.emplace(std::string(var.substr(0, eq)), std::string(var.substr(eq + 1)));
    }
  }
  return objstore::swift::ResolveSwiftSettings(environment);
}

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::string BucketsText(const Json& remote) {
  std::string out;
  for (const Json& b : Array(remote, "buckets")) {
    if (!out.empty()) out += ",";
    if (b.is_string()) out += b.get<std::string>();
  }
  return out;
}

Status RunAdd(const RemoteArgs& args) {
  Json body = {{"name", args.name},
               {"kind", args.kind},
               {"endpoint", args.endpoint},
               {"region", args.region},
               {"buckets", SplitList(args.buckets)}};
  if (args.kind == "s3") {
    CAIRN_ASSIGN_OR_RETURN(objstore::s3::S3Settings s3,
                           ResolveS3(args.profile, args.endpoint, args.region));
    body["access_key_id"] = s3.credentials.access_key_id;
    body["secret_access_key"] = s3.credentials.secret_access_key;
    body["session_token"] = s3.credentials.session_token;
    if (args.region.empty()) body["region"] = s3.region;
    if (args.endpoint.empty()) body["endpoint"] = s3.endpoint_url;
  } else if (args.kind == "swift") {
    // Swift: tempauth (ST_*) or Keystone v3 (OS_*) as the swift CLI reads them, from the
    // environment only; the endpoint is the auth URL, the Keystone scope is sealed too.
    CAIRN_ASSIGN_OR_RETURN(objstore::swift::SwiftSettings swift, ResolveSwift());
    if (!args.endpoint.empty()) swift.auth_url = args.endpoint;
    CAIRN_ASSIGN_OR_RETURN(objstore::swift::SwiftRemoteFields fields,
                           objstore::swift::ToRemoteFields(swift));
    body["access_key_id"] = fields.user;
    body["secret_access_key"] = fields.secret;
    body["session_token"] = fields.scope;
    body["endpoint"] = fields.endpoint;
    if (args.region.empty()) body["region"] = swift.region;
  } else {
    return InvalidArgumentError("--kind must be s3 or swift, not \"" + args.kind + "\"");
  }
  if (body["endpoint"].get<std::string>().empty()) {
    return InvalidArgumentError("no endpoint: give --endpoint (or AWS_ENDPOINT_URL / ST_AUTH)");
  }
  CAIRN_ASSIGN_OR_RETURN(Api api, Api::Connect(args));
  CAIRN_ASSIGN_OR_RETURN(Json added, api.Call("POST", "/v1/remotes", body, "add remote"));
  return WriteStdout(Str(added, "uuid") + "  " + Str(added, "name") + "\n");
}

Status RunList(const RemoteArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(Api api, Api::Connect(args));
  CAIRN_ASSIGN_OR_RETURN(Json list, api.Call("GET", "/v1/remotes", nullptr, "list remotes"));
  std::string out;
  for (const Json& r : Array(list, "items")) {
    out += Str(r, "name") + "\t" + Str(r, "kind") + "\t" + Str(r, "endpoint") + "\t" +
           Str(r, "region") + "\t" + BucketsText(r) + "\n";
  }
  return WriteStdout(out);
}

Status RunRemove(const RemoteArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(Api api, Api::Connect(args));
  CAIRN_ASSIGN_OR_RETURN(Json removed,
                         api.Call("DELETE", "/v1/remotes/" + args.name, nullptr, "remove remote"));
  return WriteStdout("removed " + Str(removed, "name") + "\n");
}

// The remote to list `bucket` with: --remote, else the caller's remote that holds the bucket.
Result<Json> FindRemote(Api& api, const std::string& name, const std::string& kind,
                        const std::string& bucket) {
  if (!name.empty()) {
    CAIRN_ASSIGN_OR_RETURN(Json r, api.Call("GET", "/v1/remotes/" + name, nullptr, "get remote"));
    if (Str(r, "kind") != kind) {
      return InvalidArgumentError("remote " + name + " is a " + Str(r, "kind") + " remote, not " +
                                  kind);
    }
    return r;
  }
  CAIRN_ASSIGN_OR_RETURN(Json list, api.Call("GET", "/v1/remotes", nullptr, "list remotes"));
  for (const Json& r : Array(list, "items")) {
    if (Str(r, "kind") != kind) continue;
    for (const Json& b : Array(r, "buckets")) {
      if (b == bucket) return r;
    }
  }
  return NotFoundError("none of your " + kind + " remotes holds bucket " + bucket +
                       " (add one with `cairn remote add`)");
}

// A store to list `bucket` of `kind` with, using the caller's own credentials (the environment
// conventions of the aws and swift CLIs) and the remote's endpoint.
struct Lister {
  std::unique_ptr<http::CurlHttpClient> http;
  std::unique_ptr<objstore::s3::S3Client> s3;
  std::unique_ptr<objstore::swift::SwiftClient> swift;
  std::unique_ptr<objstore::ObjectStore> store;
};

Result<Lister> OpenLister(const RemoteArgs& args, const std::string& kind, const Json& remote) {
  Lister l;
  CAIRN_ASSIGN_OR_RETURN(l.http, http::CurlHttpClient::Create({}));
  if (kind == "s3") {
    CAIRN_ASSIGN_OR_RETURN(objstore::s3::S3Settings settings,
                           ResolveS3(args.profile, Str(remote, "endpoint"), Str(remote, "region")));
    CAIRN_ASSIGN_OR_RETURN(
        l.s3, objstore::s3::S3Client::Create(settings, l.http.get(), io::Env::Default()));
    l.store = std::make_unique<objstore::s3::S3ObjectStore>(l.s3.get());
  } else {
    CAIRN_ASSIGN_OR_RETURN(objstore::swift::SwiftSettings settings, ResolveSwift());
    CAIRN_ASSIGN_OR_RETURN(l.swift, objstore::swift::SwiftClient::Create(
                                        std::move(settings), l.http.get(), io::Env::Default()));
    l.store = std::make_unique<objstore::swift::SwiftObjectStore>(l.swift.get());
  }
  return l;
}

Status RunImport(const RemoteArgs& args) {
  std::string_view source = args.source;
  std::string kind;
  if (source.starts_with("s3://")) {
    kind = "s3";
  } else if (source.starts_with("swift://")) {
    kind = "swift";
  } else {
    return InvalidArgumentError(
        "import needs an s3://bucket/prefix or swift://container/prefix "
        "URL, not \"" +
        args.source + "\"");
  }
  source.remove_prefix(kind.size() + 3);
  size_t slash = source.find('/');
  std::string bucket(source.substr(0, slash));
  std::string prefix(slash == std::string_view::npos ? "" : source.substr(slash + 1));
  if (bucket.empty()) return InvalidArgumentError("import needs a bucket: " + args.source);
  // Files are named relative to the prefix's last '/'.
  size_t cut = prefix.rfind('/');
  size_t strip = cut == std::string::npos ? 0 : cut + 1;

  CAIRN_ASSIGN_OR_RETURN(Api api, Api::Connect(args));
  CAIRN_ASSIGN_OR_RETURN(Json remote, FindRemote(api, args.remote, kind, bucket));
  CAIRN_ASSIGN_OR_RETURN(Lister lister, OpenLister(args, kind, remote));
  const manifest::ObjectStoreKind store_kind =
      kind == "s3" ? manifest::ObjectStoreKind::kS3 : manifest::ObjectStoreKind::kSwift;
  // Written as it is listed, a line per object (FileListWriter); the catalog normalizes it.
  manifest::FileListWriter writer;
  int64_t imported = 0;
  int64_t skipped = 0;
  int64_t versioned = 0;
  auto add = [&](const std::string& key, uint64_t size, const std::string& etag,
                 const std::string& version_id) -> Status {
    std::string_view path = std::string_view(key).substr(std::min(strip, key.size()));
    // Pinned to the version where the store versions objects (it stays readable after an
    // overwrite), else to the ETag (a changed object is an error, never other bytes).
    manifest::ExternalObject external{.kind = store_kind,
                                      .bucket = bucket,
                                      .key = key,
                                      .version_id = version_id,
                                      .etag = version_id.empty() ? etag : ""};
    const bool nameable = size <= manifest::kMaxExternalSize && external.Validate().ok();
    std::vector<manifest::Locator> chunks;
    if (nameable && size > 0) {
      chunks = manifest::SplitExternal(manifest::MakeExternalLocator(external, 0, size));
    }
    // Directory markers, keys that are no file path ("a//b", "./x", a file where a directory
    // is) and objects that cannot be named by reference are left out.
    if (!nameable || path.empty() || path.back() == '/' || !writer.AddFile(path, chunks).ok()) {
      ++skipped;
      return Status::OK();
    }
    ++imported;
    if (!version_id.empty()) ++versioned;
    return Status::OK();
  };
  // One page at a time: memory holds the text being written and one page of keys.
  if (kind == "s3") {
    // ListObjectVersions: the latest version of each key with its version id ("null" where the
    // bucket never versioned: pinned by ETag then).
    objstore::s3::ListVersionsOptions options{
        .prefix = prefix, .key_marker = "", .version_id_marker = "", .max_keys = 1000};
    for (;;) {
      CAIRN_ASSIGN_OR_RETURN(objstore::s3::ListObjectVersionsPage page,
                             lister.s3->ListObjectVersions(bucket, options));
      for (const objstore::s3::ObjectVersion& v : page.versions) {
        if (!v.is_latest || v.is_delete_marker) continue;
        if (v.size < 0) {
          ++skipped;
          continue;
        }
        CAIRN_RETURN_IF_ERROR(add(v.key, static_cast<uint64_t>(v.size), v.etag,
                                  v.version_id == "null" ? "" : v.version_id));
      }
      if (!page.is_truncated) break;
      options.key_marker = page.next_key_marker;
      options.version_id_marker = page.next_version_id_marker;
    }
  } else {
    objstore::ListOptions options{
        .prefix = prefix, .delimiter = "", .marker = "", .max_keys = 1000};
    do {
      CAIRN_ASSIGN_OR_RETURN(objstore::ListPage page, lister.store->List(bucket, options));
      for (const objstore::ListedObject& object : page.objects) {
        CAIRN_RETURN_IF_ERROR(add(object.key, object.size, object.etag, ""));
      }
      options.marker = page.next_marker;
    } while (!options.marker.empty());
  }
  std::string name = args.name.empty() ? "import of " + args.source : args.name;
  // The request body is written straight from the manifest text (no JSON value holding another
  // copy) and the reply leaves the manifest out.
  std::string body = "{\"name\":";
  AppendJsonString(name, &body);
  body += ",\"manifest_text\":";
  {
    const std::string text = writer.Release();
    body.reserve(body.size() + text.size() + text.size() / 16 + 16);
    AppendJsonString(text, &body);
  }
  body += '}';
  CAIRN_ASSIGN_OR_RETURN(
      Json saved, api.CallText("POST", "/v1/collections?manifest=false", &body, "save collection"));
  std::fprintf(
      stderr,
      "cairn: imported %lld objects (%lld pinned to a version, the others to their ETag)%s\n",
      static_cast<long long>(imported), static_cast<long long>(versioned),
      skipped > 0
          ? (", skipped " + std::to_string(skipped) + " keys that are not file paths").c_str()
          : "");
  return WriteStdout(Str(saved, "uuid") + "\n" + Str(saved, "portable_data_hash") + "\n");
}

}  // namespace

void RegisterRemoteCommands(CLI::App& app, RunState* state) {
  static RemoteArgs args;  // CLI11 binds options by address
  auto common = [&](CLI::App* cmd, Status (*run)(const RemoteArgs&)) {
    cmd->add_option("--api-host", args.api_host,
                    "Catalog host:port or URL (default: CAIRN_API_HOST, ~/.config/cairn/config)");
    cmd->add_option("--token-file", args.token_file,
                    "File holding the API token (default: CAIRN_API_TOKEN, the config file)");
    cmd->callback([run, state] {
      Status s = run(args);
      if (!s.ok()) state->exit_code = ReportError(s);
    });
  };
  CLI::App* remote = AddCommandGroup(app, "remote", "Object stores whose buckets you can import");
  CLI::App* add = remote->add_subcommand("add", "Register an object store and its buckets");
  add->add_option("NAME", args.name, "Name of the remote")->required();
  add->add_option("--kind", args.kind, "s3 (default) or swift");
  add->add_option(
      "--endpoint", args.endpoint,
      "URL of the store (default: AWS_ENDPOINT_URL for s3; ST_AUTH or OS_AUTH_URL for swift)");
  add->add_option("--region", args.region, "Region (default: as the aws CLI finds it)");
  add->add_option("--buckets", args.buckets, "Buckets, comma-separated")->required();
  add->add_option("--profile", args.profile, "Credentials from this profile of ~/.aws");
  add->footer(
      "Credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or --profile) for s3,\n"
      "ST_USER/ST_KEY (tempauth, endpoint ST_AUTH) or Keystone v3 OS_AUTH_URL/OS_USERNAME/\n"
      "OS_PASSWORD/OS_PROJECT_NAME (and OS_*_DOMAIN_NAME, OS_REGION_NAME, OS_INTERFACE) for\n"
      "swift, never from arguments; the catalog keeps them sealed and never returns them.");
  common(add, RunAdd);
  common(remote->add_subcommand("ls", "List your remotes"), RunList);
  CLI::App* rm = remote->add_subcommand("rm", "Remove a remote");
  rm->add_option("NAME", args.name, "Name of the remote")->required();
  common(rm, RunRemove);

  CLI::App* import = app.add_subcommand(
      "import", "Make a collection of the objects under a prefix, without copying them");
  import->add_option("SOURCE", args.source, "s3://bucket/prefix or swift://container/prefix")
      ->required();
  import->add_option("--remote", args.remote,
                     "Remote of the bucket (default: your remote that holds it)");
  import->add_option("--name", args.name, "Name of the collection");
  import->add_option("--profile", args.profile, "Credentials to list with, from ~/.aws");
  import->footer("Prints the collection's uuid, then its portable data hash.");
  common(import, RunImport);
}

}  // namespace cairn::cli
