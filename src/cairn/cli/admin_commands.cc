// cairn user | token | keep-service — administering the catalog over its HTTP API.
//
// Settings: CAIRN_API_HOST and CAIRN_API_TOKEN, else `CAIRN_API_HOST=` / `CAIRN_API_TOKEN=` lines
// of ~/.config/cairn/config ($XDG_CONFIG_HOME/cairn/config).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cairn/cli/command.h"
#include "cairn/client/catalog_client.h"
#include "cairn/http/curl_http_client.h"
#include "cairn/io/env.h"

namespace cairn::cli {
namespace {

using Json = nlohmann::json;

// Replies of the catalog are small JSON documents; a list of 1000 items fits easily.
constexpr size_t kMaxReplyBytes = 64 << 20;

// One connection to the catalog.
class Api {
 public:
  static Result<Api> Connect() {
    Api api;
    CAIRN_ASSIGN_OR_RETURN(std::string host, ClientSetting("CAIRN_API_HOST"));
    if (host.empty()) {
      return InvalidArgumentError("no catalog: set CAIRN_API_HOST (or CAIRN_API_HOST= in " +
                                  ClientConfigPath() + ")");
    }
    CAIRN_ASSIGN_OR_RETURN(api.token_, ClientSetting("CAIRN_API_TOKEN"));
    if (api.token_.empty()) {
      return InvalidArgumentError("no token: set CAIRN_API_TOKEN (or CAIRN_API_TOKEN= in " +
                                  ClientConfigPath() + ")");
    }
    CAIRN_ASSIGN_OR_RETURN(api.base_url_, client::ApiBaseUrl(host));
    CAIRN_ASSIGN_OR_RETURN(
        api.http_, http::CurlHttpClient::Create({.connect_timeout = std::chrono::seconds(5)}));
    return api;
  }

  // `method path` with an optional JSON body; the reply's JSON, or the catalog's error.
  Result<Json> Call(const std::string& method, const std::string& path,
                    const Json& body = nullptr) {
    std::string text = body.is_null() ? "" : body.dump();
    http::HttpRequest request;
    request.method = method;
    request.url = base_url_ + path;
    request.headers = {{"Authorization", "Bearer " + token_}, {"Accept", "application/json"}};
    if (!text.empty()) {
      request.headers.emplace_back("Content-Type", "application/json");
      request.body = http::RequestBody::FromBytes(text);
    }
    request.timeout = std::chrono::seconds(60);
    std::string context = method + " " + path;
    CAIRN_ASSIGN_OR_RETURN(http::HttpResponse response,
                           http_->Send(request, http::ResponseBody::Collect(kMaxReplyBytes)));
    Json reply = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    if (response.status_code / 100 != 2) {
      Status s = http::HttpStatusToStatus(response.status_code, context);
      if (reply.is_object() && reply.contains("errors") && reply["errors"].is_array() &&
          !reply["errors"].empty() && reply["errors"][0].is_string()) {
        ErrorDetail detail;
        detail.http_status = response.status_code;
        return Status(s.code(), context + ": " + reply["errors"][0].get<std::string>(), detail);
      }
      return s;
    }
    if (!reply.is_object()) return InternalError(context + ": the reply is not a JSON object");
    return reply;
  }

 private:
  Api() = default;
  std::string base_url_;
  std::string token_;
  std::unique_ptr<http::CurlHttpClient> http_;
};

std::string Str(const Json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end() || it->is_null()) return "-";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

Status PrintLine(const std::string& line) { return WriteStdout(line + "\n"); }

// Runs `body` with a connection, reporting its error; returns the exit code.
template <typename F>
int WithApi(F&& body) {
  Result<Api> api = Api::Connect();
  if (!api.ok()) return ReportError(api.status());
  Status s = body(*api);
  return s.ok() ? kExitOk : ReportError(s);
}

struct AdminArgs {
  std::string name;
  bool admin = false;
  std::string user;
  std::string expires;
  std::string id;
  std::string host_port;
  std::string type = "disk";
  bool read_only = false;
  bool ssl = false;
};

Status UserAdd(Api& api, const AdminArgs& a) {
  CAIRN_ASSIGN_OR_RETURN(
      Json user, api.Call("POST", "/v1/users", {{"username", a.name}, {"is_admin", a.admin}}));
  CAIRN_ASSIGN_OR_RETURN(Json token,
                         api.Call("POST", "/v1/api_tokens", {{"user_uuid", Str(user, "uuid")}}));
  std::fprintf(stderr, "cairn: created user %s (%s)%s; their token:\n", a.name.c_str(),
               Str(user, "uuid").c_str(), a.admin ? ", an admin" : "");
  return PrintLine(Str(token, "api_token"));
}

Status UserList(Api& api) {
  CAIRN_ASSIGN_OR_RETURN(Json list, api.Call("GET", "/v1/users?limit=1000"));
  for (const Json& u : list["items"]) {
    std::string line = Str(u, "uuid") + "  " + Str(u, "username");
    if (u.value("is_admin", false)) line += "  admin";
    CAIRN_RETURN_IF_ERROR(PrintLine(line));
  }
  return Status::OK();
}

Status TokenCreate(Api& api, const AdminArgs& a) {
  Json body = Json::object();
  if (!a.user.empty()) body["user_uuid"] = a.user;
  if (!a.expires.empty()) body["expires_at"] = a.expires;
  CAIRN_ASSIGN_OR_RETURN(Json token, api.Call("POST", "/v1/api_tokens", body));
  std::fprintf(stderr, "cairn: token %s for %s, expires %s:\n", Str(token, "uuid").c_str(),
               Str(token, "user_uuid").c_str(), Str(token, "expires_at").c_str());
  return PrintLine(Str(token, "api_token"));
}

Status TokenList(Api& api, const AdminArgs& a) {
  std::string path = "/v1/api_tokens?limit=1000";
  if (!a.user.empty()) path += "&user_uuid=" + a.user;
  CAIRN_ASSIGN_OR_RETURN(Json list, api.Call("GET", path));
  for (const Json& t : list["items"]) {
    CAIRN_RETURN_IF_ERROR(PrintLine(Str(t, "uuid") + "  created " + Str(t, "created_at") +
                                    "  expires " + Str(t, "expires_at")));
  }
  return Status::OK();
}

Status KeepServiceAdd(Api& api, const AdminArgs& a) {
  size_t colon = a.host_port.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 ||
      (port = std::atoi(a.host_port.c_str() + colon + 1)) <= 0) {
    return InvalidArgumentError("\"" + a.host_port + "\" is not HOST:PORT");
  }
  CAIRN_ASSIGN_OR_RETURN(Json s, api.Call("POST", "/v1/keep_services",
                                          {{"service_host", a.host_port.substr(0, colon)},
                                           {"service_port", port},
                                           {"service_type", a.type},
                                           {"service_ssl_flag", a.ssl},
                                           {"read_only", a.read_only}}));
  return PrintLine(Str(s, "uuid"));
}

Status KeepServiceList(Api& api) {
  CAIRN_ASSIGN_OR_RETURN(Json list, api.Call("GET", "/v1/keep_services?limit=1000"));
  for (const Json& s : list["items"]) {
    std::string line =
        Str(s, "uuid") + "  " + (s.value("service_ssl_flag", false) ? "https" : "http") + "://" +
        Str(s, "service_host") + ":" + Str(s, "service_port") + "  " + Str(s, "service_type");
    if (s.value("read_only", false)) line += "  read-only";
    CAIRN_RETURN_IF_ERROR(PrintLine(line));
  }
  return Status::OK();
}

constexpr char kSettings[] =
    "Settings: CAIRN_API_HOST (host:port or URL of the catalog) and CAIRN_API_TOKEN, or\n"
    "CAIRN_API_HOST= and CAIRN_API_TOKEN= lines in ~/.config/cairn/config.";

}  // namespace

void RegisterAdminCommands(CLI::App& app, RunState* state) {
  auto a = std::make_shared<AdminArgs>();
  auto run = [state](auto body) { return [state, body] { state->exit_code = WithApi(body); }; };

  CLI::App* user = AddCommandGroup(app, "user", "Users of the catalog (admins)");
  user->footer(kSettings);
  CLI::App* add = user->add_subcommand("add", "Create a user and print a token for them");
  add->add_option("NAME", a->name, "Username: [a-z][a-z0-9_.-]{0,63}")->required();
  add->add_flag("--admin", a->admin, "Make the user an admin");
  add->footer(std::string("Example:\n  cairn user add alice > alice.token\n\n") + kSettings);
  add->callback(run([a](Api& api) { return UserAdd(api, *a); }));
  CLI::App* uls = user->add_subcommand("ls", "List users");
  uls->callback(run([](Api& api) { return UserList(api); }));

  CLI::App* token = AddCommandGroup(app, "token", "API tokens");
  token->footer(kSettings);
  CLI::App* create = token->add_subcommand("create", "Create a token and print it (shown once)");
  create->add_option("--user", a->user, "For this user uuid (admins; default: yourself)");
  create->add_option("--expires", a->expires, "Expiry, RFC 3339 (2027-01-31T00:00:00Z)");
  create->callback(run([a](Api& api) { return TokenCreate(api, *a); }));
  CLI::App* revoke = token->add_subcommand("revoke", "Revoke a token at once");
  revoke->add_option("UUID", a->id, "Token uuid, or `current` for the token in use")->required();
  revoke->callback(
      run([a](Api& api) { return api.Call("DELETE", "/v1/api_tokens/" + a->id).status(); }));
  CLI::App* tls = token->add_subcommand("ls", "List your tokens (never their secrets)");
  tls->add_option("--user", a->user, "Another user's tokens (admins)");
  tls->callback(run([a](Api& api) { return TokenList(api, *a); }));

  CLI::App* ks = AddCommandGroup(app, "keep-service", "The registry of keep services (admins)");
  ks->footer(kSettings);
  CLI::App* ksadd = ks->add_subcommand("add", "Register a keepstore; prints its uuid");
  ksadd->add_option("HOST:PORT", a->host_port, "Where it listens")->required();
  ksadd->add_option("--type", a->type, "disk, gateway or proxy")
      ->capture_default_str()
      ->check(CLI::IsMember({"disk", "gateway", "proxy"}));
  ksadd->add_flag("--read-only", a->read_only, "Clients only read from it");
  ksadd->add_flag("--ssl", a->ssl, "It speaks HTTPS");
  ksadd->callback(run([a](Api& api) { return KeepServiceAdd(api, *a); }));
  CLI::App* ksls = ks->add_subcommand("ls", "List keep services");
  ksls->callback(run([](Api& api) { return KeepServiceList(api); }));
  CLI::App* ksrm = ks->add_subcommand("rm", "Remove a keep service from the registry");
  ksrm->add_option("UUID", a->id, "Its uuid")->required();
  ksrm->callback(
      run([a](Api& api) { return api.Call("DELETE", "/v1/keep_services/" + a->id).status(); }));
}

}  // namespace cairn::cli
