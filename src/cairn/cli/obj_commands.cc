// cairn obj ls | stat | cat | rm | mb | rb — S3 objects, in the manner of `aws s3`.
//
// Credentials, region and endpoint are found the way the AWS CLI finds them (flags, AWS_*
// variables, ~/.aws/credentials and ~/.aws/config; objstore/s3/settings.h). Transfers (`cp`,
// `mv`) are in obj_transfer_commands.cc.
#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "cairn/cli/command.h"
#include "cairn/cli/obj_fs_commands.h"
#include "cairn/cli/obj_transfer_commands.h"
#include "cairn/common/hash.h"
#include "cairn/http/curl_http_client.h"
#include "cairn/io/env.h"
#include "cairn/objstore/s3/client.h"
#include "cairn/objstore/s3/list_iterator.h"
#include "cairn/objstore/swift/settings.h"

extern char** environ;

namespace cairn::cli {

// A JSON string literal of `s` (obj_transfer_commands.h).
void AppendJsonString(std::string_view s, std::string* out) {
  *out += '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      *out += '\\';
      *out += static_cast<char>(c);
    } else if (c == '\n') {
      *out += "\\n";
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      *out += buf;
    } else {
      *out += static_cast<char>(c);
    }
  }
  *out += '"';
}

std::string JsonString(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

namespace {

namespace s3 = objstore::s3;

struct ObjArgs {
  std::string url;
  std::string profile;
  std::string region;
  std::string endpoint_url;
  bool recursive = false;
  bool json = false;
  bool force = false;
};

// Reads a file through the Env, "" when it does not exist.
Result<std::string> ReadOptionalFile(const std::string& path) {
  Result<std::unique_ptr<io::FileContents>> contents = io::Env::Default()->ReadFile(path);
  if (!contents.ok()) {
    if (contents.status().code() == StatusCode::kNotFound) return std::string();
    return contents.status();
  }
  return std::string((*contents)->data());
}

Result<S3Connection> Connect(const ObjArgs& args) {
  return ConnectS3({.profile = args.profile,
                    .region = args.region,
                    .endpoint_url = args.endpoint_url,
                    .max_connections = 16});
}

std::string FormatTime(int64_t unix_seconds) {
  return FormatUtc(unix_seconds, "%Y-%m-%d %H:%M:%S");
}

// Deletes every object under `prefix`, in DeleteObjects batches of 1,000 (S3's limit) while the
// lister fetches the next page. Returns how many were deleted.
Result<uint64_t> DeleteAllUnder(s3::S3Client& client, const std::string& bucket,
                                const std::string& prefix, std::string_view what) {
  s3::ListOptions options;
  options.prefix = prefix;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<s3::ObjectLister> lister,
                         s3::ObjectLister::Start(&client, bucket, options));
  uint64_t deleted = 0;
  std::vector<s3::ObjectIdentifier> batch;
  auto flush = [&]() -> Status {
    if (batch.empty()) return Status();
    CAIRN_ASSIGN_OR_RETURN(s3::DeleteObjectsResult result, client.DeleteObjects(bucket, batch));
    if (!result.errors.empty()) {
      const s3::DeleteObjectError& e = result.errors.front();
      return UnavailableError(std::string(what) + ": " + std::to_string(result.errors.size()) +
                              " objects not deleted, first " + e.key + ": " + e.code + " " +
                              e.message);
    }
    deleted += batch.size();
    batch.clear();
    return Status();
  };
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(std::optional<s3::ObjectSummary> object, lister->Next());
    if (!object) break;
    batch.push_back({object->key, ""});
    if (batch.size() == s3::kMaxDeleteObjectsKeys) CAIRN_RETURN_IF_ERROR(flush());
  }
  CAIRN_RETURN_IF_ERROR(flush());
  return deleted;
}

Status RunLs(const ObjArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(S3Connection c, Connect(args));
  if (args.url.empty() || args.url == "s3://") {
    CAIRN_ASSIGN_OR_RETURN(s3::ListBucketsResult buckets, c.client->ListBuckets());
    std::string out;
    for (const s3::BucketSummary& b : buckets.buckets) {
      out += args.json ? "{\"bucket\":" + JsonString(b.name) +
                             ",\"created\":" + JsonString(b.creation_date.text) + "}\n"
                       : FormatTime(b.creation_date.unix_seconds) + " " + b.name + "\n";
    }
    return WriteStdout(out);
  }
  CAIRN_ASSIGN_OR_RETURN(S3Path path, ParseS3Path(args.url));
  s3::ListOptions options;
  options.prefix = path.key;
  if (!args.recursive) options.delimiter = "/";
  // As `aws s3 ls`: one level shows names relative to the prefix's directory.
  size_t shown_from = args.recursive ? 0 : path.key.rfind('/') + 1;  // npos + 1 == 0
  // The lister fetches the next page while this one is printed, holding at most two.
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<s3::ObjectLister> lister,
                         s3::ObjectLister::Start(c.client.get(), path.bucket, options));
  std::string out;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(std::optional<s3::ListEntry> entry, lister->NextEntry());
    if (!entry) break;
    if (entry->is_prefix()) {
      out += args.json ? "{\"prefix\":" + JsonString(entry->prefix) + "}\n"
                       : std::string(30, ' ') + "PRE " + entry->prefix.substr(shown_from) + "\n";
    } else if (args.json) {
      const s3::ObjectSummary& o = entry->object;
      out += "{\"key\":" + JsonString(o.key) + ",\"size\":" + std::to_string(o.size) +
             ",\"etag\":" + JsonString(o.etag) +
             ",\"last_modified\":" + JsonString(o.last_modified.text) + "}\n";
    } else {
      const s3::ObjectSummary& o = entry->object;
      std::string size = std::to_string(o.size);
      out += FormatTime(o.last_modified.unix_seconds) + " " +
             std::string(size.size() < 10 ? 10 - size.size() : 0, ' ') + size + " " +
             o.key.substr(std::min(shown_from, o.key.size())) + "\n";
    }
    if (out.size() >= (64 << 10)) {
      CAIRN_RETURN_IF_ERROR(WriteStdout(out));
      out.clear();
    }
  }
  return WriteStdout(out);
}

Status RunStat(const ObjArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(S3Path path, ParseS3Path(args.url));
  if (path.key.empty()) return InvalidArgumentError("stat needs s3://bucket/key");
  CAIRN_ASSIGN_OR_RETURN(S3Connection c, Connect(args));
  CAIRN_ASSIGN_OR_RETURN(s3::ObjectInfo info, c.client->HeadObject(path.bucket, path.key));
  std::string out;
  if (args.json) {
    out = "{\"key\":" + JsonString(path.key) + ",\"size\":" + std::to_string(info.size) +
          ",\"etag\":" + JsonString(info.etag) +
          ",\"last_modified\":" + std::to_string(info.last_modified) +
          ",\"content_type\":" + JsonString(info.content_type) +
          ",\"version_id\":" + JsonString(info.version_id) + ",\"metadata\":{";
    bool first = true;
    for (const auto& [name, value] : info.metadata) {
      out += (first ? "" : ",") + JsonString(name) + ":" + JsonString(value);
      first = false;
    }
    out += "}}\n";
  } else {
    out = "name:          " + args.url + "\nsize:          " + std::to_string(info.size) +
          "\netag:          " + info.etag + "\nlast modified: " + FormatTime(info.last_modified) +
          " UTC\ncontent type:  " + info.content_type + "\n";
    if (!info.version_id.empty()) out += "version id:    " + info.version_id + "\n";
    for (const auto& [name, value] : info.metadata)
      out += "metadata:      " + name + "=" + value + "\n";
  }
  return WriteStdout(out);
}

Status RunCat(const ObjArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(S3Path path, ParseS3Path(args.url));
  if (path.key.empty()) return InvalidArgumentError("cat needs s3://bucket/key");
  CAIRN_ASSIGN_OR_RETURN(S3Connection c, Connect(args));
  Md5 md5;
  CAIRN_ASSIGN_OR_RETURN(s3::ObjectInfo info,
                         c.client->GetObject(path.bucket, path.key, {}, [&](std::string_view p) {
                           md5.Update(p);
                           return WriteStdout(p);
                         }));
  // A single-part object's ETag is the MD5 of its bytes: check what went out.
  if (info.etag.size() == 32 && info.etag.find('-') == std::string::npos) {
    std::string got = HexEncode(md5.Finish());
    if (got != info.etag) {
      return DataLossError("cat " + args.url + ": the bytes' MD5 " + got +
                           " is not the object's ETag " + info.etag);
    }
  }
  return Status();
}

Status RunRm(const ObjArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(S3Path path, ParseS3Path(args.url));
  CAIRN_ASSIGN_OR_RETURN(S3Connection c, Connect(args));
  if (!args.recursive) {
    if (path.key.empty()) return InvalidArgumentError("rm needs s3://bucket/key (or -r)");
    CAIRN_RETURN_IF_ERROR(c.client->DeleteObject(path.bucket, path.key));
    return WriteStdout("deleted: " + args.url + "\n");
  }
  CAIRN_ASSIGN_OR_RETURN(uint64_t deleted,
                         DeleteAllUnder(*c.client, path.bucket, path.key, "rm -r " + args.url));
  return WriteStdout("deleted " + std::to_string(deleted) + " objects under " + args.url + "\n");
}

Status RunMb(const ObjArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(S3Path path, ParseS3Path(args.url));
  if (path.bucket.empty() || !path.key.empty()) return InvalidArgumentError("mb needs s3://bucket");
  CAIRN_ASSIGN_OR_RETURN(S3Connection c, Connect(args));
  CAIRN_RETURN_IF_ERROR(c.client->CreateBucket(path.bucket));
  return WriteStdout("make_bucket: " + path.bucket + "\n");
}

Status RunRb(const ObjArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(S3Path path, ParseS3Path(args.url));
  if (path.bucket.empty() || !path.key.empty()) return InvalidArgumentError("rb needs s3://bucket");
  CAIRN_ASSIGN_OR_RETURN(S3Connection c, Connect(args));
  if (args.force) {
    std::string url = "s3://" + path.bucket + "/";
    CAIRN_ASSIGN_OR_RETURN(uint64_t deleted,
                           DeleteAllUnder(*c.client, path.bucket, "", "rb --force " + url));
    CAIRN_RETURN_IF_ERROR(
        WriteStdout("deleted " + std::to_string(deleted) + " objects under " + url + "\n"));
  }
  CAIRN_RETURN_IF_ERROR(c.client->DeleteBucket(path.bucket));
  return WriteStdout("remove_bucket: " + path.bucket + "\n");
}

}  // namespace

Result<S3Path> ParseS3Path(std::string_view url) {
  constexpr std::string_view kScheme = "s3://";
  if (!url.starts_with(kScheme)) {
    return InvalidArgumentError("\"" + std::string(url) + "\" is not an s3://bucket/key URL");
  }
  url.remove_prefix(kScheme.size());
  size_t slash = url.find('/');
  S3Path path{std::string(url.substr(0, slash)),
              slash == std::string_view::npos ? "" : std::string(url.substr(slash + 1))};
  return path;
}

Result<S3Connection> ConnectS3(const S3ConnectionFlags& flags) {
  s3::S3SettingsInput input;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view var(*e);
    size_t eq = var.find('=');
    if (var.starts_with("AWS_") && eq != std::string_view::npos) {
      input.environment.emplace(std::string(var.substr(0, eq)), std::string(var.substr(eq + 1)));
    }
  }
  if (!flags.profile.empty()) input.profile = flags.profile;
  if (!flags.region.empty()) input.region = flags.region;
  if (!flags.endpoint_url.empty()) input.endpoint_url = flags.endpoint_url;
  const char* home = std::getenv("HOME");
  std::string aws_dir = std::string(home != nullptr ? home : "") + "/.aws/";
  auto file = [&](const char* variable, const char* name) {
    auto it = input.environment.find(variable);
    return it != input.environment.end() ? it->second : aws_dir + name;
  };
  input.credentials_file_name = file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
  input.config_file_name = file("AWS_CONFIG_FILE", "config");
  CAIRN_ASSIGN_OR_RETURN(input.credentials_file_text,
                         ReadOptionalFile(input.credentials_file_name));
  CAIRN_ASSIGN_OR_RETURN(input.config_file_text, ReadOptionalFile(input.config_file_name));
  CAIRN_ASSIGN_OR_RETURN(s3::S3Settings settings, s3::ResolveS3Settings(input));
  S3Connection c;
  http::CurlHttpClientOptions http_options;
  http_options.max_connections_per_endpoint = std::max(flags.max_connections, 1);
  CAIRN_ASSIGN_OR_RETURN(c.http, http::CurlHttpClient::Create(http_options));
  CAIRN_ASSIGN_OR_RETURN(c.client,
                         s3::S3Client::Create(settings, c.http.get(), io::Env::Default()));
  return c;
}

Result<SwiftConnection> ConnectSwift(int max_connections) {
  objstore::swift::SwiftEnvironment environment;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view var(*e);
    size_t eq = var.find('=');
    if (eq != std::string_view::npos && (var.starts_with("ST_") || var.starts_with("OS_"))) {
      environment.emplace(std::string(var.substr(0, eq)), std::string(var.substr(eq + 1)));
    }
  }
  CAIRN_ASSIGN_OR_RETURN(objstore::swift::SwiftSettings settings,
                         objstore::swift::ResolveSwiftSettings(environment));
  SwiftConnection c;
  http::CurlHttpClientOptions http_options;
  http_options.max_connections_per_endpoint = std::max(max_connections, 1);
  CAIRN_ASSIGN_OR_RETURN(c.http, http::CurlHttpClient::Create(http_options));
  CAIRN_ASSIGN_OR_RETURN(c.client, objstore::swift::SwiftClient::Create(
                                       std::move(settings), c.http.get(), io::Env::Default()));
  return c;
}

void RegisterObjCommands(CLI::App& app, RunState* state) {
  static ObjArgs args;  // CLI11 binds options by address
  CLI::App* obj = AddCommandGroup(app, "obj", "Copy, list, read and delete objects in S3 stores");
  obj->footer(
      "Credentials, region and endpoint come from the flags, AWS_* variables and\n"
      "~/.aws/{credentials,config}, as for the aws CLI (AWS_ENDPOINT_URL for RGW, MinIO, ...).\n"
      "\n"
      "Examples:\n"
      "  cairn obj cp ./run42 s3://bucket/run42/ -r\n"
      "  cairn obj ls s3://bucket/prefix/\n"
      "  cairn obj cat s3://bucket/data.csv | head");
  auto add = [&](const char* name, const char* description, Status (*run)(const ObjArgs&),
                 const char* url_help) {
    CLI::App* cmd = obj->add_subcommand(name, description);
    cmd->add_option("URL", args.url, url_help);
    cmd->add_option("--profile", args.profile, "AWS profile (~/.aws/credentials, ~/.aws/config)");
    cmd->add_option("--region", args.region,
                    "Region (default: AWS_REGION, the profile, us-east-1)");
    cmd->add_option("--endpoint-url", args.endpoint_url, "S3 endpoint, e.g. http://127.0.0.1:7480");
    cmd->callback([run, state, name] {
      // swift:// URLs, and rm -r, go through the FileSystem facade (obj_fs_commands.cc).
      Status s = UseFsCommand(name, args.url, "", args.recursive)
                     ? RunFsCommand({.verb = name,
                                     .url = args.url,
                                     .destination = "",
                                     .recursive = args.recursive,
                                     .json = args.json,
                                     .force = args.force,
                                     .quiet = false,
                                     .profile = args.profile,
                                     .region = args.region,
                                     .endpoint_url = args.endpoint_url})
                     : run(args);
      if (!s.ok()) state->exit_code = ReportError(s);
    });
    return cmd;
  };
  CLI::App* ls = add("ls", "List buckets, or objects under a prefix", RunLs,
                     "s3://bucket[/prefix] (none: the buckets)");
  ls->add_flag("-r,--recursive", args.recursive, "All objects under the prefix, not one level");
  ls->add_flag("--json", args.json, "One JSON object per line");
  CLI::App* stat =
      add("stat", "Show an object's size, ETag, time and metadata", RunStat, "s3://bucket/key");
  stat->add_flag("--json", args.json, "As JSON");
  add("cat", "Write an object to standard output (MD5-checked when its ETag is one)", RunCat,
      "s3://bucket/key");
  CLI::App* rm = add("rm", "Delete an object, or with -r every object under a prefix", RunRm,
                     "s3://bucket/key or s3://bucket/prefix");
  rm->add_flag("-r,--recursive", args.recursive, "Everything under the prefix (batches of 1,000)");
  AddJobsFlag(rm);
  add("mb", "Make a bucket", RunMb, "s3://bucket");
  CLI::App* rb = add("rb", "Remove a bucket", RunRb, "s3://bucket");
  rb->add_flag("--force", args.force, "Delete every object in it first");
  RegisterObjTransferCommands(obj, state);
  RegisterObjReadCommands(obj, state);
}

}  // namespace cairn::cli
