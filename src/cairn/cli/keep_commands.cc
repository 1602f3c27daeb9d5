// cairn put | get | ls | cat | share | cp | mv | rm — collections in Keep, through the catalog and
// keepstores (DESIGN.md §1; the client library in src/cairn/client).
//
// Settings: --api-host, else CAIRN_API_HOST, else CAIRN_API_HOST= in ~/.config/cairn/config;
// the token from --token-file, else CAIRN_API_TOKEN, else CAIRN_API_TOKEN= in that file. The
// token is never taken from argv (it would show in process listings) nor printed.
#include <CLI/CLI.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "cairn/cli/command.h"
#include "cairn/cli/keep_session.h"
#include "cairn/client/catalog_client.h"
#include "cairn/client/collection_reader.h"
#include "cairn/client/collection_writer.h"
#include "cairn/client/keep_client.h"
#include "cairn/http/curl_http_client.h"
#include "cairn/io/env.h"
#include "cairn/manifest/manifest.h"
#include "cairn/manifest/tree_copy.h"

namespace cairn::cli {
namespace {

struct KeepArgs {
  std::string api_host;
  std::string token_file;
  std::vector<std::string> paths;
  std::string target;
  std::string dest;
  std::string name;
  int replication = 0;
  int threads = 2;
  bool no_resume = false;
  bool quiet = false;
  bool long_format = false;
  bool recursive = false;
  std::string with;
  std::string level;
};

std::string HomeDir() {
  const char* home = std::getenv("HOME");
  return home != nullptr ? home : ".";
}

std::string XdgDir(const char* variable, const char* fallback) {
  const char* value = std::getenv(variable);
  if (value != nullptr && value[0] == '/') return value;
  return HomeDir() + "/" + fallback;
}

using Session = KeepSession;
Result<Session> Connect(const KeepArgs& args) {
  return ConnectKeep(args.api_host, args.token_file);
}

std::string HumanBytes(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (bytes >= 1024 && u < 4) {
    bytes /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

// A one-line progress bar with rate and ETA on stderr, redrawn at most 10 times a second, shown
// only when stderr is a terminal.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled && ::isatty(STDERR_FILENO) == 1) {}
  ~ProgressBar() {
    if (drawn_) std::fputs("\n", stderr);
  }
  void Update(uint64_t done, uint64_t total, bool force = false) {
    if (!enabled_) return;
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (!force && drawn_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    drawn_ = true;
    double seconds = std::chrono::duration<double>(now - start_).count();
    double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
    int percent =
        total > 0 ? static_cast<int>(100.0 * static_cast<double>(done) / static_cast<double>(total))
                  : 100;
    int width = 30;
    int filled = width * percent / 100;
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(width - filled), '.');
    std::string eta = "--:--";
    if (rate > 0 && total >= done) {
      int64_t left = static_cast<int64_t>(static_cast<double>(total - done) / rate);
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%lld:%02lld", static_cast<long long>(left / 60),
                    static_cast<long long>(left % 60));
      eta = buf;
    }
    std::fprintf(stderr, "\r[%s] %3d%% %s / %s  %s/s  ETA %s   ", bar.c_str(), percent,
                 HumanBytes(static_cast<double>(done)).c_str(),
                 HumanBytes(static_cast<double>(total)).c_str(), HumanBytes(rate).c_str(),
                 eta.c_str());
  }

 private:
  const bool enabled_;
  std::mutex mu_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_;
};

std::string Basename(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Status RunPut(const KeepArgs& args) {
  if (args.paths.empty()) return InvalidArgumentError("put needs at least one PATH");
  CAIRN_ASSIGN_OR_RETURN(Session s, Connect(args));
  int replication = args.replication;
  if (replication <= 0) {
    CAIRN_ASSIGN_OR_RETURN(int writable, s.keep->WritableServiceCount());
    replication = std::max(1, std::min(2, writable));  // arv-put's default of 2, if there are 2
  }
  std::vector<std::string> absolute;
  for (const std::string& p : args.paths) {
    char* real = ::realpath(p.c_str(), nullptr);
    if (real == nullptr) return ErrnoError("put " + p, errno);
    absolute.emplace_back(real);
    std::free(real);
  }
  client::CollectionWriterOptions options{.threads = std::max(1, args.threads),
                                          .replication = replication};
  if (!args.no_resume) {
    const std::string dir = XdgDir("XDG_CACHE_HOME", ".cache") + "/cairn/put";
    for (size_t i = 1; i <= dir.size(); ++i) {
      if (i == dir.size() || dir[i] == '/') ::mkdir(dir.substr(0, i).c_str(), 0700);
    }
    options.resume_cache_path = client::ResumeCachePath(dir, s.catalog->base_url(), absolute,
                                                        options.block_size, replication);
  }
  ProgressBar bar(!args.quiet);
  options.progress = [&](const client::WriteProgress& p) {
    bar.Update(p.bytes_done, p.bytes_total);
  };
  client::CollectionWriter writer(s.keep.get(), io::Env::Default(), options);
  std::set<std::string> names;
  for (size_t i = 0; i < args.paths.size(); ++i) {
    struct stat st;
    if (::stat(absolute[i].c_str(), &st) != 0) return ErrnoError("put " + args.paths[i], errno);
    // One directory: its contents at the root (as arv-put); otherwise each under its own name.
    std::string name = args.paths.size() == 1 && S_ISDIR(st.st_mode) ? "" : Basename(absolute[i]);
    if (!name.empty() && !names.insert(name).second) {
      return InvalidArgumentError("put: two paths are named \"" + name + "\"");
    }
    CAIRN_RETURN_IF_ERROR(writer.Add(absolute[i], name));
  }
  Result<client::Collection> saved = writer.Finish(s.catalog.get(), args.name);
  bar.Update(writer.bytes_total(), writer.bytes_total(), /*force=*/true);
  CAIRN_RETURN_IF_ERROR(saved.status());
  return WriteStdout(saved->uuid + "\n" + saved->portable_data_hash + "\n");
}

// "UUID|PDH[/path]" -> id and path.
std::pair<std::string, std::string> SplitTarget(const std::string& target) {
  size_t slash = target.find('/');
  if (slash == std::string::npos) return {target, ""};
  return {target.substr(0, slash), target.substr(slash + 1)};
}

Status RunGet(const KeepArgs& args) {
  auto [id, path] = SplitTarget(args.target);
  CAIRN_ASSIGN_OR_RETURN(Session s, Connect(args));
  CAIRN_ASSIGN_OR_RETURN(auto reader,
                         client::CollectionReader::Open(s.catalog.get(), s.keep.get(), id));
  uint64_t total = 0;
  CAIRN_ASSIGN_OR_RETURN(auto entries, reader->List(path, /*recursive=*/true));
  for (const auto& e : entries) {
    if (!e.is_directory) total += e.size;
  }
  ProgressBar bar(!args.quiet);
  CAIRN_ASSIGN_OR_RETURN(client::DownloadStats stats,
                         client::DownloadTree(*reader, path, args.dest,
                                              [&](uint64_t done) { bar.Update(done, total); }));
  bar.Update(stats.bytes, total, /*force=*/true);
  return Status();
}

Status RunLs(const KeepArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(Session s, Connect(args));
  std::string out;
  if (args.target.empty()) {
    for (int offset = 0;;) {
      CAIRN_ASSIGN_OR_RETURN(client::CollectionList list,
                             s.catalog->ListCollections({.limit = 1000, .offset = offset}));
      for (const auto& c : list.items) {
        out += c.uuid + "  " + c.portable_data_hash;
        if (args.long_format) {
          out += "  " + std::to_string(c.file_size_total) + "  " + c.modified_at;
        }
        out += "  " + c.name + "\n";
      }
      offset += static_cast<int>(list.items.size());
      if (list.items.empty() || offset >= list.items_available) break;
    }
    return WriteStdout(out);
  }
  auto [id, path] = SplitTarget(args.target);
  CAIRN_ASSIGN_OR_RETURN(auto reader,
                         client::CollectionReader::Open(s.catalog.get(), s.keep.get(), id));
  CAIRN_ASSIGN_OR_RETURN(auto entries, reader->List(path, args.recursive));
  for (const auto& e : entries) {
    if (args.long_format) {
      char size[32];
      std::snprintf(size, sizeof(size), "%14llu  ", static_cast<unsigned long long>(e.size));
      out += size;
    }
    out += e.path + (e.is_directory ? "/" : "") + "\n";
  }
  return WriteStdout(out);
}

Status RunCat(const KeepArgs& args) {
  auto [id, path] = SplitTarget(args.target);
  if (path.empty()) return InvalidArgumentError("cat needs UUID|PDH/path");
  CAIRN_ASSIGN_OR_RETURN(Session s, Connect(args));
  CAIRN_ASSIGN_OR_RETURN(auto reader,
                         client::CollectionReader::Open(s.catalog.get(), s.keep.get(), id));
  CAIRN_ASSIGN_OR_RETURN(auto file, reader->OpenFile(path));
  return file->ReadAll([](std::string_view piece) { return WriteStdout(piece); });
}

Status RunShare(const KeepArgs& args) {
  if (args.with.empty()) return InvalidArgumentError("share needs --with USER");
  if (args.level != "read" && args.level != "write" && args.level != "manage") {
    return InvalidArgumentError("--level must be read, write or manage");
  }
  CAIRN_ASSIGN_OR_RETURN(Session s, Connect(args));
  CAIRN_ASSIGN_OR_RETURN(client::Permission p,
                         s.catalog->CreatePermission(args.target, args.with, args.level));
  return WriteStdout(p.uuid + "  " + p.level + "  " + p.user_uuid + "\n");
}

// cp / mv between collections: rewrites manifests only (manifest/tree_copy.h); the source's
// signed locators let the catalog accept blocks (and external objects) the caller may read.
Status CopyOrMove(const KeepArgs& args, bool move) {
  auto [from_id, from_path] = SplitTarget(args.target);
  auto [to_id, to_path] = SplitTarget(args.dest);
  if (move && from_path.empty()) {
    return InvalidArgumentError("mv moves a file or directory of a collection: give UUID/path");
  }
  CAIRN_ASSIGN_OR_RETURN(Session s, Connect(args));
  CAIRN_ASSIGN_OR_RETURN(client::Collection source, s.catalog->GetCollection(from_id));
  CAIRN_ASSIGN_OR_RETURN(manifest::Manifest from, manifest::Manifest::Parse(source.manifest_text));
  const bool same = to_id == source.uuid || to_id == from_id;
  client::Collection target;
  manifest::Manifest to;
  if (to_id == "new") {
    if (move) return InvalidArgumentError("mv needs an existing destination collection");
  } else if (same) {
    std::string dest = to_path;
    while (!dest.empty() && dest.back() == '/') dest.pop_back();
    if (move && (dest == from_path || dest.starts_with(from_path + "/"))) {
      return InvalidArgumentError("cannot move " + args.target + " into itself");
    }
    target = source;
    to = from;
  } else {
    CAIRN_ASSIGN_OR_RETURN(target, s.catalog->GetCollection(to_id));
    CAIRN_ASSIGN_OR_RETURN(to, manifest::Manifest::Parse(target.manifest_text));
  }
  CAIRN_ASSIGN_OR_RETURN(std::string placed, manifest::CopyTree(from, from_path, &to, to_path));
  if (move && same) CAIRN_RETURN_IF_ERROR(to.Remove(from_path));
  client::CollectionFields fields;
  fields.manifest_text = to.ToText();
  client::Collection saved;
  if (to_id == "new") {
    fields.name = args.name.empty() ? "copy of " + args.target : args.name;
    CAIRN_ASSIGN_OR_RETURN(saved, s.catalog->CreateCollection(fields));
  } else {
    CAIRN_ASSIGN_OR_RETURN(saved, s.catalog->UpdateCollection(target.uuid, fields));
  }
  if (move && !same) {
    // Saved at the destination first: a failure here leaves both copies, never none.
    CAIRN_RETURN_IF_ERROR(from.Remove(from_path));
    client::CollectionFields rest;
    rest.manifest_text = from.ToText();
    Result<client::Collection> removed = s.catalog->UpdateCollection(source.uuid, rest);
    if (!removed.ok()) {
      return Status(removed.status().code(), "copied to " + saved.uuid + "/" + placed +
                                                 " but could not remove " + args.target + ": " +
                                                 std::string(removed.status().message()));
    }
  }
  return WriteStdout(saved.uuid + "\n" + saved.portable_data_hash + "\n");
}

Status RunCp(const KeepArgs& args) { return CopyOrMove(args, false); }
Status RunMv(const KeepArgs& args) { return CopyOrMove(args, true); }

Status RunRm(const KeepArgs& args) {
  auto [id, path] = SplitTarget(args.target);
  if (path.empty()) return InvalidArgumentError("rm removes a file or directory: give UUID/path");
  CAIRN_ASSIGN_OR_RETURN(Session s, Connect(args));
  CAIRN_ASSIGN_OR_RETURN(client::Collection c, s.catalog->GetCollection(id));
  CAIRN_ASSIGN_OR_RETURN(manifest::Manifest m, manifest::Manifest::Parse(c.manifest_text));
  std::optional<manifest::Manifest::NodeId> node = m.Find(path);
  if (!node) return NotFoundError(args.target + ": no such file or directory");
  if (m.IsDirectory(*node) && !args.recursive) {
    return InvalidArgumentError(args.target + " is a directory (use -r)");
  }
  CAIRN_RETURN_IF_ERROR(m.Remove(path));
  client::CollectionFields fields;
  fields.manifest_text = m.ToText();
  CAIRN_ASSIGN_OR_RETURN(client::Collection saved, s.catalog->UpdateCollection(c.uuid, fields));
  return WriteStdout(saved.uuid + "\n" + saved.portable_data_hash + "\n");
}

}  // namespace

Result<KeepSession> ConnectKeep(const std::string& api_host, const std::string& token_file) {
  std::string host = api_host;
  if (host.empty()) {
    CAIRN_ASSIGN_OR_RETURN(host, ClientSetting("CAIRN_API_HOST"));
  }
  if (host.empty()) {
    return InvalidArgumentError(
        "no API host: set CAIRN_API_HOST, --api-host, or CAIRN_API_HOST= in "
        "~/.config/cairn/config");
  }
  std::string token;
  if (!token_file.empty()) {
    CAIRN_ASSIGN_OR_RETURN(token, ResolveToken("", token_file));
  } else {
    CAIRN_ASSIGN_OR_RETURN(token, ClientSetting("CAIRN_API_TOKEN"));
  }
  if (token.empty()) {
    return InvalidArgumentError(
        "no API token: set CAIRN_API_TOKEN, --token-file, or CAIRN_API_TOKEN= in "
        "~/.config/cairn/config");
  }
  CAIRN_ASSIGN_OR_RETURN(std::string base_url, client::ApiBaseUrl(host));
  KeepSession s;
  CAIRN_ASSIGN_OR_RETURN(
      s.http, http::CurlHttpClient::Create({.connect_timeout = std::chrono::seconds(5)}));
  s.catalog = std::make_unique<client::CatalogClient>(
      s.http.get(), io::Env::Default(),
      client::CatalogClientOptions{.base_url = base_url, .token = token});
  client::KeepClientOptions keep_options;
  keep_options.token = token;
  CAIRN_ASSIGN_OR_RETURN(s.keep, client::KeepClient::Create(s.http.get(), s.catalog.get(),
                                                            io::Env::Default(), keep_options));
  return s;
}

void RegisterKeepCommands(CLI::App& app, RunState* state) {
  static KeepArgs args;  // CLI11 binds options by address
  auto add = [&](const char* name, const char* description, Status (*run)(const KeepArgs&)) {
    CLI::App* cmd = app.add_subcommand(name, description);
    cmd->add_option("--api-host", args.api_host,
                    "Catalog host:port or URL (default: CAIRN_API_HOST, ~/.config/cairn/config)");
    cmd->add_option("--token-file", args.token_file,
                    "File holding the API token (default: CAIRN_API_TOKEN, the config file)");
    cmd->callback([run, state] {
      Status s = run(args);
      if (!s.ok()) state->exit_code = ReportError(s);
    });
    return cmd;
  };
  CLI::App* put = add("put", "Store files and directories as a new collection", RunPut);
  put->add_option("PATH", args.paths, "Files and directories (one directory: its contents)")
      ->required();
  put->add_option("--name", args.name, "Name of the collection");
  put->add_option("--replication", args.replication,
                  "Copies of each block (default: 2, or 1 with one keepstore)");
  put->add_option("--threads", args.threads, "Blocks uploading at once (default 2)");
  put->add_flag("--no-resume", args.no_resume,
                "Start over instead of resuming an interrupted upload of the same paths");
  put->add_flag("-q,--quiet", args.quiet, "No progress bar");
  put->footer("Prints the collection's uuid, then its portable data hash.");

  CLI::App* get =
      add("get", "Copy a collection, or a file or directory of it, to local disk", RunGet);
  get->add_option("SOURCE", args.target, "UUID|PDH[/path]")->required();
  get->add_option("DEST", args.dest, "Local directory (or file name, for one file)")->required();
  get->add_flag("-q,--quiet", args.quiet, "No progress bar");

  CLI::App* ls = add("ls", "List your collections, or the files of one", RunLs);
  ls->add_option("COLLECTION", args.target, "UUID|PDH[/path] (none: your collections)");
  ls->add_flag("-l", args.long_format, "Sizes (and times, for collections)");
  ls->add_flag("-r,--recursive", args.recursive, "Every level below the path");

  CLI::App* cat = add("cat", "Write a file of a collection to standard output", RunCat);
  cat->add_option("FILE", args.target, "UUID|PDH/path")->required();

  CLI::App* share = add("share", "Give a user access to a collection", RunShare);
  share->add_option("UUID", args.target, "Collection uuid")->required();
  share->add_option("--with", args.with, "User name or uuid")->required();
  share->add_option("--level", args.level, "read, write or manage")->required();

  CLI::App* cp = add("cp", "Copy files between collections (no data moves)", RunCp);
  cp->add_option("SOURCE", args.target, "UUID|PDH[/path]")->required();
  cp->add_option("DEST", args.dest, "UUID[/path] of a collection you may write, or new[/path]")
      ->required();
  cp->add_option("--name", args.name, "Name of the new collection (DEST new/...)");
  cp->footer(
      "Like cp -r: into DEST when it is a directory, else as DEST; never replaces anything.\n"
      "Prints the destination collection's uuid, then its portable data hash.");
  CLI::App* mv = add("mv", "Move or rename files within or between collections", RunMv);
  mv->add_option("SOURCE", args.target, "UUID/path")->required();
  mv->add_option("DEST", args.dest, "UUID[/path]")->required();
  CLI::App* rm = add("rm", "Remove a file or directory from a collection (a new version)", RunRm);
  rm->add_option("TARGET", args.target, "UUID/path")->required();
  rm->add_flag("-r,--recursive", args.recursive, "Remove a directory and what is in it");
}

}  // namespace cairn::cli
