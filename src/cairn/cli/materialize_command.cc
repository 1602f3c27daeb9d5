// cairn materialize UUID — copies a collection's external data (imported S3 and Swift objects)
// into Cairn's own volumes and saves the result as a new version of the same collection: the
// same files, the same bytes, now in Keep blocks (DESIGN.md §3, issue 7 "moving data without
// changing what users see").
//
// Each external chunk (at most 64 MiB) is read through the gateway, stored with KeepClient::Put
// (MD5 computed here, checked by every keepstore) and replaced in the manifest. An object read
// whole whose ETag is a plain MD5 (a single-PUT S3 object) is also checked against that ETag, so
// what lands in Keep is what the store holds (a Swift ETag cannot be told from an SLO's, which is
// no MD5 of the bytes; those rely on the gateway's ETag pin). Memory: one chunk at a time.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <map>
#include <optional>
#include <string>

#include "cairn/cli/command.h"
#include "cairn/cli/keep_session.h"
#include "cairn/common/hash.h"
#include "cairn/manifest/external.h"
#include "cairn/manifest/manifest.h"
#include "cairn/manifest/tree_copy.h"

namespace cairn::cli {
namespace {

struct MaterializeArgs {
  std::string api_host;
  std::string token_file;
  std::string collection;
  int replication = 0;
  bool quiet = false;
};

bool IsHexMd5(std::string_view s) {
  if (s.size() != 32) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Checks whole external objects against their MD5 ETags as their chunks go by, in order.
class WholeObjectCheck {
 public:
  Status Add(const manifest::ExternalRange& range, std::string_view data) {
    const std::string url = range.object.ToUrl();
    auto it = open_.find(url);
    if (range.offset == 0) {
      // Only S3 says by its ETag's form whether it is the MD5 of the bytes (a multipart ETag ends
      // in -N); a Swift SLO's ETag looks like an MD5 but is the MD5 of its segments' ETags.
      if (range.object.kind != manifest::ObjectStoreKind::kS3 || !IsHexMd5(range.object.etag)) {
        return Status::OK();  // nothing to compare with
      }
      it = open_.try_emplace(url).first;
      it->second.next = 0;
    }
    if (it == open_.end() || it->second.next != range.offset) {
      if (it != open_.end()) open_.erase(it);  // not read front to back: no whole check
      return Status::OK();
    }
    it->second.md5.Update(data);
    it->second.next += data.size();
    return Status::OK();
  }
  // Called once every chunk was added: objects read whole are compared with their ETag.
  Status Finish(const std::map<std::string, uint64_t>& object_sizes) {
    for (auto& [url, state] : open_) {
      auto size = object_sizes.find(url);
      if (size == object_sizes.end() || state.next != size->second) continue;
      Result<manifest::ExternalObject> object = manifest::ExternalObject::ParseUrl(url);
      if (!object.ok()) continue;
      std::string got = HexEncode(state.md5.Finish());
      if (got != object->etag) {
        return DataLossError(url.substr(0, url.find('?')) + ": the bytes read have MD5 " + got +
                             ", not the ETag " + object->etag + " the object was imported with");
      }
      ++checked_;
    }
    return Status::OK();
  }
  int checked() const { return checked_; }

 private:
  struct State {
    Md5 md5;
    uint64_t next = 0;
  };
  std::map<std::string, State> open_;
  int checked_ = 0;
};

Status RunMaterialize(const MaterializeArgs& args) {
  if (args.collection.find('+') != std::string::npos) {
    return InvalidArgumentError(
        "materialize makes a new version: give the collection's uuid, not "
        "a portable data hash");
  }
  CAIRN_ASSIGN_OR_RETURN(KeepSession s, ConnectKeep(args.api_host, args.token_file));
  CAIRN_ASSIGN_OR_RETURN(client::Collection c, s.catalog->GetCollection(args.collection));
  CAIRN_ASSIGN_OR_RETURN(manifest::Manifest m, manifest::Manifest::Parse(c.manifest_text));
  int replicas = args.replication;
  if (replicas <= 0) {
    CAIRN_ASSIGN_OR_RETURN(int writable, s.keep->WritableServiceCount());
    replicas = writable >= 2 ? 2 : 1;
  }
  // The end of every external object the manifest reaches, to tell a whole read from a part.
  std::map<std::string, uint64_t> object_ends;
  uint64_t external_bytes = 0;
  for (const manifest::Locator& l : m.blocks()) {
    if (!l.IsExternal()) continue;
    CAIRN_ASSIGN_OR_RETURN(manifest::ExternalRange range, manifest::DecodeExternal(l));
    uint64_t& end = object_ends[range.object.ToUrl()];
    end = std::max(end, range.offset + range.size);
    external_bytes += range.size;
  }
  if (external_bytes == 0) {
    std::fprintf(stderr, "cairn: %s holds no external data\n", c.uuid.c_str());
    return WriteStdout(c.uuid + "\n" + c.portable_data_hash + "\n");
  }
  WholeObjectCheck whole;
  uint64_t done = 0;
  int blocks = 0;
  CAIRN_ASSIGN_OR_RETURN(
      manifest::Manifest local,
      manifest::RewriteBlocks(m, [&](const manifest::Locator& l) -> Result<manifest::Locator> {
        if (!l.IsExternal()) return l;
        CAIRN_ASSIGN_OR_RETURN(manifest::ExternalRange range, manifest::DecodeExternal(l));
        CAIRN_ASSIGN_OR_RETURN(client::Block data, s.keep->Get(l));
        if (data->size() != l.size()) {
          return DataLossError(l.SizedDigest() + ": the gateway sent " +
                               std::to_string(data->size()) + " bytes");
        }
        CAIRN_RETURN_IF_ERROR(whole.Add(range, *data));
        CAIRN_ASSIGN_OR_RETURN(client::PutResult put, s.keep->Put(*data, replicas));
        done += data->size();
        ++blocks;
        if (!args.quiet) {
          std::fprintf(stderr, "\rcairn: materialized %llu of %llu bytes",
                       static_cast<unsigned long long>(done),
                       static_cast<unsigned long long>(external_bytes));
        }
        return put.locator;
      }));
  if (!args.quiet) std::fputs("\n", stderr);
  CAIRN_RETURN_IF_ERROR(whole.Finish(object_ends));
  client::CollectionFields fields;
  fields.manifest_text = local.ToText();
  CAIRN_ASSIGN_OR_RETURN(client::Collection saved, s.catalog->UpdateCollection(c.uuid, fields));
  std::fprintf(stderr,
               "cairn: %d blocks copied into Keep (%d objects checked against their ETag); "
               "version %lld\n",
               blocks, whole.checked(), static_cast<long long>(saved.version));
  return WriteStdout(saved.uuid + "\n" + saved.portable_data_hash + "\n");
}

}  // namespace

void RegisterMaterializeCommand(CLI::App& app, RunState* state) {
  static MaterializeArgs args;  // CLI11 binds options by address
  CLI::App* cmd = app.add_subcommand(
      "materialize", "Copy a collection's external data into Keep, as a new version");
  cmd->add_option("UUID", args.collection, "Collection uuid")->required();
  cmd->add_option("--replication", args.replication,
                  "Copies of each block (default: 2, or 1 with one keepstore)");
  cmd->add_flag("-q,--quiet", args.quiet, "No progress");
  cmd->add_option("--api-host", args.api_host,
                  "Catalog host:port or URL (default: CAIRN_API_HOST, ~/.config/cairn/config)");
  cmd->add_option("--token-file", args.token_file,
                  "File holding the API token (default: CAIRN_API_TOKEN, the config file)");
  cmd->footer(
      "The files and their bytes stay the same; the portable data hash changes (the blocks are\n"
      "now Keep blocks). Prints the collection's uuid, then its new portable data hash.");
  cmd->callback([state] {
    Status s = RunMaterialize(args);
    if (!s.ok()) state->exit_code = ReportError(s);
  });
}

}  // namespace cairn::cli
