#include "cairn/objstore/s3/settings.h"

#include <string>

namespace cairn::objstore::s3 {
namespace {

constexpr std::string_view kWhitespace = " \t\r";

std::string_view Trim(std::string_view s) {
  size_t begin = s.find_first_not_of(kWhitespace);
  if (begin == std::string_view::npos) return {};
  size_t end = s.find_last_not_of(kWhitespace);
  return s.substr(begin, end - begin + 1);
}

const std::string* Find(const EnvironmentVariables& env, std::string_view name) {
  auto it = env.find(name);
  return it == env.end() || it->second.empty() ? nullptr : &it->second;
}

const std::string* Find(const IniSection* section, std::string_view key) {
  if (section == nullptr) return nullptr;
  auto it = section->find(key);
  return it == section->end() || it->second.empty() ? nullptr : &it->second;
}

const IniSection* FindSection(const IniFile& file, std::string_view name) {
  auto it = file.find(name);
  return it == file.end() ? nullptr : &it->second;
}

// Checks an endpoint URL and returns it without a trailing slash.
Result<std::string> CheckEndpoint(std::string_view url, std::string_view where) {
  std::string_view trimmed = url;
  while (trimmed.ends_with('/')) trimmed.remove_suffix(1);
  size_t scheme_end = trimmed.starts_with("http://") ? 7 : trimmed.starts_with("https://") ? 8 : 0;
  if (scheme_end == 0) {
    return InvalidArgumentError("endpoint URL \"" + std::string(url) + "\" from " +
                                std::string(where) + " must start with http:// or https://");
  }
  std::string_view authority = trimmed.substr(scheme_end);
  if (authority.empty() || authority.find_first_of("/?#@ ") != std::string_view::npos) {
    return InvalidArgumentError("endpoint URL \"" + std::string(url) + "\" from " +
                                std::string(where) +
                                " must be scheme://host[:port] with no path, query or user");
  }
  return std::string(trimmed);
}

Result<AddressingStyle> ParseAddressing(std::string_view value, std::string_view where) {
  if (value == "path") return AddressingStyle::kPath;
  if (value == "virtual") return AddressingStyle::kVirtualHost;
  if (value == "auto") return AddressingStyle::kAuto;
  return InvalidArgumentError("addressing_style \"" + std::string(value) + "\" in " +
                              std::string(where) + " must be path, virtual or auto");
}

}  // namespace

Result<IniFile> ParseAwsIni(std::string_view text, std::string_view file_name) {
  IniFile file;
  IniSection* section = nullptr;
  std::string nested;  // the key of an open nested block ("s3"), or ""
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view raw = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    std::string_view line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    auto error = [&](std::string_view what) {
      return InvalidArgumentError(std::string(file_name) + ": line " + std::to_string(line_no) +
                                  ": " + std::string(what));
    };
    if (line.front() == '[') {
      if (line.back() != ']') return error("a section header must end with ']'");
      std::string_view name = Trim(line.substr(1, line.size() - 2));
      if (name.empty()) return error("empty section name");
      section = &file[std::string(name)];
      nested.clear();
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return error("expected `key = value`");
    if (section == nullptr) return error("`key = value` before any [section]");
    std::string key(Trim(line.substr(0, eq)));
    std::string_view value = Trim(line.substr(eq + 1));
    if (key.empty()) return error("empty key");
    bool indented = raw.find_first_not_of(kWhitespace) > 0;
    if (indented && !nested.empty()) {
      (*section)[nested + "." + key] = std::string(value);
      continue;
    }
    nested = value.empty() ? key : std::string();
    (*section)[key] = std::string(value);
  }
  return file;
}

Result<S3Settings> ResolveS3Settings(const S3SettingsInput& in) {
  CAIRN_ASSIGN_OR_RETURN(IniFile credentials_file,
                         ParseAwsIni(in.credentials_file_text, in.credentials_file_name));
  CAIRN_ASSIGN_OR_RETURN(IniFile config_file,
                         ParseAwsIni(in.config_file_text, in.config_file_name));

  // The profile: explicit, else AWS_PROFILE, else "default".
  std::string profile = "default";
  if (in.profile) {
    profile = *in.profile;
  } else if (const std::string* p = Find(in.environment, "AWS_PROFILE")) {
    profile = *p;
  }
  const IniSection* cred_section = FindSection(credentials_file, profile);
  const IniSection* config_section =
      FindSection(config_file, profile == "default" ? "default" : "profile " + profile);
  bool profile_named = in.profile.has_value() || Find(in.environment, "AWS_PROFILE") != nullptr;
  if (profile_named && profile != "default" && cred_section == nullptr &&
      config_section == nullptr) {
    return NotFoundError("AWS profile \"" + profile + "\" is in neither " +
                         in.credentials_file_name + " nor " + in.config_file_name);
  }

  S3Settings out;
  // Credentials.
  auto take = [&](const std::string* id, const std::string* secret, const std::string* token,
                  std::string source) -> Result<bool> {
    if (id == nullptr && secret == nullptr) return false;
    if (id == nullptr || secret == nullptr) {
      return InvalidArgumentError("S3 credentials from " + source + " have " +
                                  (id == nullptr ? "a secret key but no access key id"
                                                 : "an access key id but no secret key"));
    }
    out.credentials = Credentials{*id, *secret, token ? *token : std::string()};
    out.source = std::move(source);
    return true;
  };
  bool found = false;
  if (in.access_key_id || in.secret_access_key) {
    CAIRN_ASSIGN_OR_RETURN(found, take(in.access_key_id ? &*in.access_key_id : nullptr,
                                       in.secret_access_key ? &*in.secret_access_key : nullptr,
                                       in.session_token ? &*in.session_token : nullptr, "flags"));
  }
  // An explicitly named profile outranks the environment's keys, as in the AWS CLI.
  auto from_profile = [&]() -> Result<bool> {
    for (auto [section, file] : {std::pair{cred_section, &in.credentials_file_name},
                                 std::pair{config_section, &in.config_file_name}}) {
      CAIRN_ASSIGN_OR_RETURN(
          bool got,
          take(Find(section, "aws_access_key_id"), Find(section, "aws_secret_access_key"),
               Find(section, "aws_session_token"), "profile " + profile + " in " + *file));
      if (got) return true;
    }
    return false;
  };
  if (!found && in.profile) {
    CAIRN_ASSIGN_OR_RETURN(found, from_profile());
  }
  if (!found) {
    CAIRN_ASSIGN_OR_RETURN(found, take(Find(in.environment, "AWS_ACCESS_KEY_ID"),
                                       Find(in.environment, "AWS_SECRET_ACCESS_KEY"),
                                       Find(in.environment, "AWS_SESSION_TOKEN"), "environment"));
  }
  if (!found && !in.profile) {
    CAIRN_ASSIGN_OR_RETURN(found, from_profile());
  }
  if (!found) {
    return UnauthenticatedError(
        "no S3 credentials: give --access-key-id and --secret-access-key, set "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add aws_access_key_id and "
        "aws_secret_access_key to profile \"" +
        profile + "\" in " + in.credentials_file_name);
  }

  // Region.
  if (in.region) {
    out.region = *in.region;
  } else if (const std::string* r = Find(in.environment, "AWS_REGION")) {
    out.region = *r;
  } else if (const std::string* r2 = Find(in.environment, "AWS_DEFAULT_REGION")) {
    out.region = *r2;
  } else if (const std::string* r3 = Find(config_section, "region")) {
    out.region = *r3;
  } else {
    out.region = "us-east-1";
  }

  // Endpoint.
  std::string_view endpoint_source;
  const std::string* endpoint = nullptr;
  if (in.endpoint_url) {
    endpoint = &*in.endpoint_url, endpoint_source = "--endpoint-url";
  } else if ((endpoint = Find(in.environment, "AWS_ENDPOINT_URL_S3"))) {
    endpoint_source = "AWS_ENDPOINT_URL_S3";
  } else if ((endpoint = Find(in.environment, "AWS_ENDPOINT_URL"))) {
    endpoint_source = "AWS_ENDPOINT_URL";
  } else if ((endpoint = Find(config_section, "endpoint_url"))) {
    endpoint_source = in.config_file_name;
  }
  if (endpoint != nullptr) {
    CAIRN_ASSIGN_OR_RETURN(out.endpoint_url, CheckEndpoint(*endpoint, endpoint_source));
  }

  // Addressing style.
  if (in.addressing) {
    out.addressing = *in.addressing;
  } else if (const std::string* style = Find(config_section, "s3.addressing_style")) {
    CAIRN_ASSIGN_OR_RETURN(out.addressing, ParseAddressing(*style, in.config_file_name));
  }
  return out;
}

}  // namespace cairn::objstore::s3
