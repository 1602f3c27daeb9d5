// Plumbing shared by the `cairn obj` command files: the S3 and Swift connections made from the
// flags and the process environment (obj_commands.cc), and the registration of `cp` and `mv`
// (obj_transfer_commands.cc) inside the `obj` group.
#ifndef CAIRN_CLI_OBJ_TRANSFER_COMMANDS_H_
#define CAIRN_CLI_OBJ_TRANSFER_COMMANDS_H_

#include <memory>
#include <string>
#include <string_view>

#include "cairn/cli/command.h"
#include "cairn/common/result.h"
#include "cairn/http/curl_http_client.h"
#include "cairn/objstore/s3/client.h"
#include "cairn/objstore/swift/client.h"

namespace CLI {
class App;
}

namespace cairn::cli {

struct S3ConnectionFlags {
  std::string profile;
  std::string region;
  std::string endpoint_url;
  // Connections kept per endpoint (at least the parts in flight).
  int max_connections = 16;
};

// An S3 client and the HTTP client under it. Owns both.
struct S3Connection {
  std::unique_ptr<http::CurlHttpClient> http;
  std::unique_ptr<objstore::s3::S3Client> client;
};

// The client for these flags, AWS_* variables and ~/.aws files, as the aws CLI finds them.
Result<S3Connection> ConnectS3(const S3ConnectionFlags& flags);

// A Swift client and the HTTP client under it. Owns both.
struct SwiftConnection {
  std::unique_ptr<http::CurlHttpClient> http;
  std::unique_ptr<objstore::swift::SwiftClient> client;
};

// The client for the ST_* (tempauth) or OS_* (Keystone) variables, as the swift CLI finds them,
// with up to `max_connections` connections per endpoint.
Result<SwiftConnection> ConnectSwift(int max_connections);

struct S3Path {
  std::string bucket;
  std::string key;
};
// "s3://bucket/key" → {bucket, key}; kInvalidArgument for other text.
Result<S3Path> ParseS3Path(std::string_view url);

// `s` as a JSON string literal (quotes, backslashes and control characters escaped), for the
// --json output of the obj commands.
std::string JsonString(std::string_view s);
// The same, appended to *out (for large texts: no second copy).
void AppendJsonString(std::string_view s, std::string* out);

// Adds `cp` and `mv` to the `obj` command group.
void RegisterObjTransferCommands(CLI::App* obj, RunState* state);
// Adds `read-ranges` (obj_read_commands.cc) to the `obj` command group.
void RegisterObjReadCommands(CLI::App* obj, RunState* state);

}  // namespace cairn::cli

#endif  // CAIRN_CLI_OBJ_TRANSFER_COMMANDS_H_
