// KeepSession: the catalog and Keep clients of a CLI command, built from the client settings
// (--api-host, else CAIRN_API_HOST, else ~/.config/cairn/config; the token from --token-file,
// else CAIRN_API_TOKEN, else the config file — never from argv).
//
// Thread safety: as the clients (catalog_client.h, keep_client.h). The members own each other's
// dependencies in declaration order; move the session, never its parts.
#ifndef CAIRN_CLI_KEEP_SESSION_H_
#define CAIRN_CLI_KEEP_SESSION_H_

#include <memory>
#include <string>

#include "cairn/client/catalog_client.h"
#include "cairn/client/keep_client.h"
#include "cairn/common/result.h"
#include "cairn/http/curl_http_client.h"

namespace cairn::cli {

struct KeepSession {
  std::unique_ptr<http::CurlHttpClient> http;
  std::unique_ptr<client::CatalogClient> catalog;
  std::unique_ptr<client::KeepClient> keep;
};

// kInvalidArgument naming the setting when there is no API host or no token.
Result<KeepSession> ConnectKeep(const std::string& api_host, const std::string& token_file);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_KEEP_SESSION_H_
