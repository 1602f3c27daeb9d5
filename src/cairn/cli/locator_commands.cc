// cairn locator sign | verify | external | show
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <ctime>
#include <functional>
#include <string>

#include "cairn/cli/command.h"
#include "cairn/io/env.h"
#include "cairn/manifest/external.h"
#include "cairn/manifest/locator.h"
#include "cairn/manifest/signature.h"

namespace cairn::cli {
namespace {

constexpr char kKeyVariable[] = "CAIRN_BLOB_SIGNING_KEY";

Result<std::string> SigningKey() {
  const char* key = std::getenv(kKeyVariable);
  if (key == nullptr || *key == '\0') {
    return FailedPreconditionError(std::string(kKeyVariable) +
                                   " is not set (the blob signing key shared by the catalog and "
                                   "the keepstores)");
  }
  return std::string(key);
}

std::string IsoTime(int64_t unix_seconds) { return FormatUtc(unix_seconds, "%Y-%m-%dT%H:%M:%SZ"); }

struct LocatorArgs {
  std::string locator;
  std::string token;
  std::string token_file;
  int64_t expiry = 0;
  int64_t ttl = 0;
  int64_t now = -1;
  std::string url;
  uint64_t offset = 0;
  uint64_t size = 0;
};

void AddTokenOptions(CLI::App* cmd, LocatorArgs* args) {
  cmd->add_option("--token", args->token,
                  "API token (shows in process listings: prefer --token-file)");
  cmd->add_option("--token-file", args->token_file,
                  "Read the token from this file (- for standard input)");
}

Status RunSign(const LocatorArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(std::string key, SigningKey());
  CAIRN_ASSIGN_OR_RETURN(std::string token, ResolveToken(args.token, args.token_file));
  CAIRN_ASSIGN_OR_RETURN(manifest::Locator locator, manifest::Locator::Parse(args.locator));
  if (args.ttl <= 0) return InvalidArgumentError("--ttl must be a positive number of seconds");
  if (args.expiry <= 0 || args.expiry > 0xffffffffLL) {
    return InvalidArgumentError("--expiry must be Unix seconds between 1 and 4294967295");
  }
  manifest::Locator signed_locator =
      manifest::SignLocator(locator, key, token, args.expiry, args.ttl);
  return WriteStdout(signed_locator.ToString() + "\n");
}

Status RunVerify(const LocatorArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(std::string key, SigningKey());
  CAIRN_ASSIGN_OR_RETURN(std::string token, ResolveToken(args.token, args.token_file));
  CAIRN_ASSIGN_OR_RETURN(manifest::Locator locator, manifest::Locator::Parse(args.locator));
  if (args.ttl <= 0) return InvalidArgumentError("--ttl must be a positive number of seconds");
  int64_t now = args.now >= 0 ? args.now : io::Env::Default()->NowUnixSeconds();
  CAIRN_RETURN_IF_ERROR(manifest::VerifySignature(locator, key, token, args.ttl, now));
  return WriteStdout("valid: signature expires " + IsoTime(locator.permission()->expiry()) + "\n");
}

Status RunExternal(const LocatorArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(manifest::ExternalObject object,
                         manifest::ExternalObject::ParseUrl(args.url));
  return WriteStdout(manifest::MakeExternalLocator(object, args.offset, args.size).ToString() +
                     "\n");
}

Status RunShow(const LocatorArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(manifest::Locator locator, manifest::Locator::Parse(args.locator));
  std::string out = "hash: " + std::string(locator.hash().hex()) + "\n";
  out += "size: " + std::to_string(locator.size()) + "\n";
  if (auto a = locator.permission()) {
    out += "signature: " + a->signature + " (expires " + IsoTime(a->expiry()) + ")\n";
  }
  if (auto r = locator.remote()) out += "remote signature: cluster " + r->cluster_id + "\n";
  for (const manifest::ServiceHint& k : locator.service_hints()) {
    out += std::string("service hint: ") +
           (k.target_kind == manifest::ServiceHint::Target::kCluster ? "cluster " : "service ") +
           k.target + (k.legacy_form ? " (legacy form)" : "") + "\n";
  }
  if (locator.IsExternal()) {
    CAIRN_ASSIGN_OR_RETURN(manifest::ExternalRange range, manifest::DecodeExternal(locator));
    out += "external object: " + range.object.ToUrl() + "\n";
    out += "range: bytes " + std::to_string(range.offset) + " to " +
           std::to_string(range.offset + range.size) + " (derived hash checked)\n";
  }
  for (const std::string& hint : locator.hints()) {
    if (std::string_view("ARKBC").find(hint[0]) == std::string_view::npos) {
      out += "other hint: +" + hint + "\n";
    }
  }
  return WriteStdout(out);
}

// Runs `fn` and records its outcome.
template <typename Fn>
std::function<void()> Runner(Fn fn, const LocatorArgs* args, RunState* state) {
  return [fn, args, state] {
    Status s = fn(*args);
    if (!s.ok()) state->exit_code = ReportError(s);
  };
}

}  // namespace

void RegisterLocatorCommands(CLI::App& app, RunState* state) {
  static LocatorArgs args;  // CLI11 binds options by address
  CLI::App* locator = AddCommandGroup(app, "locator", "Sign, verify, build and inspect locators");
  locator->footer(
      "A locator is `<md5>+<size>` and hints: +A signature, +R remote signature, +K service\n"
      "hint, +B/+C external object range. See docs/formats.md.");

  CLI::App* sign = locator->add_subcommand("sign", "Add a +A permission signature to a locator");
  sign->add_option("LOCATOR", args.locator, "Locator to sign (hash+size[+hints])")->required();
  AddTokenOptions(sign, &args);
  sign->add_option("--expiry", args.expiry, "Expiry time, Unix seconds")->required();
  sign->add_option("--ttl", args.ttl, "Cluster's signing TTL, seconds (it is signed)")->required();
  sign->footer(
      "The key is read from $CAIRN_BLOB_SIGNING_KEY (shared by the catalog and keepstores).\n"
      "\n"
      "Example:\n"
      "  cairn locator sign acbd18db4cc2f85cedef654fccc4a4d8+3 --token-file ~/.cairn-token \\\n"
      "      --expiry $(date -d '+2 weeks' +%s) --ttl 1209600");
  sign->callback(Runner(RunSign, &args, state));

  CLI::App* verify = locator->add_subcommand("verify", "Check a locator's +A signature and expiry");
  verify->add_option("LOCATOR", args.locator, "Signed locator")->required();
  AddTokenOptions(verify, &args);
  verify->add_option("--ttl", args.ttl, "The cluster's signing TTL in seconds")->required();
  verify->add_option("--now", args.now, "Check expiry against this Unix time instead of the clock");
  verify->footer(
      "The key is read from $CAIRN_BLOB_SIGNING_KEY. Exit status 0 if the signature is valid and\n"
      "unexpired; 1 with the reason (missing, invalid or expired) otherwise.");
  verify->callback(Runner(RunVerify, &args, state));

  CLI::App* external =
      locator->add_subcommand("external", "Build the locator of a range of an S3 or Swift object");
  external
      ->add_option("URL", args.url,
                   "s3://bucket/key?versionId=V or ?etag=E (swift://container/object too)")
      ->required();
  external->add_option("--offset", args.offset, "First byte of the range")->default_val(0);
  external->add_option("--size", args.size, "Length of the range in bytes")->required();
  external->footer(
      "The object is pinned to a version (?versionId=) or an ETag (?etag=); key bytes outside\n"
      "A-Z a-z 0-9 - . _ ~ / are percent-encoded.\n"
      "\n"
      "Example:\n"
      "  cairn locator external 's3://climate/era5/2026.nc?versionId=3HL4kqtJ' --size 157286400");
  external->callback(Runner(RunExternal, &args, state));

  CLI::App* show = locator->add_subcommand("show", "Parse a locator and explain its hints");
  show->add_option("LOCATOR", args.locator, "Locator")->required();
  show->footer("External locators get their derived hash checked.");
  show->callback(Runner(RunShow, &args, state));
}

}  // namespace cairn::cli
