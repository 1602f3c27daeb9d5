// Where an S3 client's credentials, region and endpoint come from, resolved the way the AWS CLI
// resolves them, so that `cairn obj` works wherever `aws s3` works.
//
// Precedence (botocore's credential chain and config lookup):
//   credentials: explicit values (flags) > the profile named explicitly (--profile) >
//                AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN >
//                the profile AWS_PROFILE (or "default") in the credentials file, then the config
//                file ("[profile NAME]" sections; "[default]")
//   region:      explicit > AWS_REGION > AWS_DEFAULT_REGION > profile "region" > us-east-1
//   endpoint:    explicit > AWS_ENDPOINT_URL_S3 > AWS_ENDPOINT_URL > profile "endpoint_url" >
//                AWS itself (https://s3.<region>.amazonaws.com)
//   addressing:  explicit > profile "s3 = addressing_style = path|virtual|auto" > auto
//
// Pure: the caller (apps/ or cli/, the only layers that read the process environment, STYLE.md
// §7) passes the environment variables and the text of ~/.aws/credentials and ~/.aws/config.
// Secrets never appear in errors or in `source`.
#ifndef CAIRN_OBJSTORE_S3_SETTINGS_H_
#define CAIRN_OBJSTORE_S3_SETTINGS_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "cairn/common/result.h"
#include "cairn/objstore/s3/signer.h"

namespace cairn::objstore::s3 {

enum class AddressingStyle {
  kAuto,         // path style for custom endpoints and names DNS cannot carry, else virtual host
  kPath,         // https://host/bucket/key
  kVirtualHost,  // https://bucket.host/key
};

using EnvironmentVariables = std::map<std::string, std::string, std::less<>>;

// One file of the AWS shared configuration: INI sections of `key = value`, where an empty value
// followed by indented lines opens a nested block (`s3 =` / `  addressing_style = path`), stored
// as "s3.addressing_style".
using IniSection = std::map<std::string, std::string, std::less<>>;
using IniFile = std::map<std::string, IniSection, std::less<>>;

// Errors (kInvalidArgument) name the file and line.
Result<IniFile> ParseAwsIni(std::string_view text, std::string_view file_name);

struct S3SettingsInput {
  // Explicit values: command-line flags. Unset = not given.
  std::optional<std::string> access_key_id;
  std::optional<std::string> secret_access_key;
  std::optional<std::string> session_token;
  std::optional<std::string> profile;
  std::optional<std::string> region;
  std::optional<std::string> endpoint_url;
  std::optional<AddressingStyle> addressing;

  EnvironmentVariables environment;
  // The shared files' contents ("" when absent) and names for messages.
  std::string credentials_file_text;
  std::string credentials_file_name = "~/.aws/credentials";
  std::string config_file_text;
  std::string config_file_name = "~/.aws/config";
};

struct S3Settings {
  Credentials credentials;
  std::string region;
  // "" for AWS itself; otherwise scheme://host[:port] without a trailing slash.
  std::string endpoint_url;
  AddressingStyle addressing = AddressingStyle::kAuto;
  // Where the credentials came from, for diagnostics: "flags", "environment", or
  // "profile dev in ~/.aws/credentials". Never a secret.
  std::string source;
};

// kUnauthenticated when no credentials are found anywhere (the message says where it looked),
// kNotFound for an explicitly named profile that exists in neither file, kInvalidArgument for an
// access key without its secret (or the reverse), a malformed file or endpoint URL.
Result<S3Settings> ResolveS3Settings(const S3SettingsInput& input);

}  // namespace cairn::objstore::s3

#endif  // CAIRN_OBJSTORE_S3_SETTINGS_H_
