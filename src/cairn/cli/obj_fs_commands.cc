// cairn obj on swift:// (and s3:// for rm -r, mv -r) through the ObjectStore interface and the
// FileSystem facade: listings, stat, cat, deletes, buckets/containers, copies and moves between
// local files, S3 and Swift. Swift credentials come from ST_AUTH/ST_USER/ST_KEY or OS_* as the
// swift CLI reads them (objstore/swift/settings.h).
#include "cairn/cli/obj_fs_commands.h"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cairn/cli/command.h"
#include "cairn/cli/obj_transfer_commands.h"
#include "cairn/common/hash.h"
#include "cairn/common/thread_pool.h"
#include "cairn/http/curl_http_client.h"
#include "cairn/io/env.h"
#include "cairn/objstore/fs/local_file_system.h"
#include "cairn/objstore/fs/object_file_system.h"
#include "cairn/objstore/s3/s3_object_store.h"
#include "cairn/objstore/swift/client.h"
#include "cairn/objstore/swift/swift_object_store.h"

namespace cairn::cli {
namespace {

namespace ofs = objstore::fs;
using objstore::ObjectStore;

int g_jobs = 16;  // --jobs; CLI11 binds it by address

enum class Kind { kLocal, kStdio, kS3, kSwift };

struct Location {
  Kind kind = Kind::kLocal;
  std::string container;  // bucket or container
  std::string key;        // object key or prefix; a local path
  std::string text;       // as given
};

Location Parse(std::string_view text) {
  Location l;
  l.text = std::string(text);
  std::string_view rest = text;
  if (text == "-") {
    l.kind = Kind::kStdio;
    return l;
  }
  if (rest.starts_with("s3://")) {
    l.kind = Kind::kS3;
    rest.remove_prefix(5);
  } else if (rest.starts_with("swift://")) {
    l.kind = Kind::kSwift;
    rest.remove_prefix(8);
  } else {
    l.key = std::string(text);
    return l;
  }
  size_t slash = rest.find('/');
  l.container = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) l.key = std::string(rest.substr(slash + 1));
  return l;
}

bool IsRemote(const Location& l) { return l.kind == Kind::kS3 || l.kind == Kind::kSwift; }

// One store connection and what it owns.
struct Store {
  S3Connection s3;
  std::unique_ptr<http::CurlHttpClient> http;
  std::unique_ptr<objstore::swift::SwiftClient> swift;
  std::unique_ptr<ObjectStore> store;
};

Result<std::unique_ptr<Store>> Connect(Kind kind, const FsCommandArgs& args) {
  auto s = std::make_unique<Store>();
  const int connections = g_jobs + 4;
  if (kind == Kind::kS3) {
    CAIRN_ASSIGN_OR_RETURN(s->s3, ConnectS3({.profile = args.profile,
                                             .region = args.region,
                                             .endpoint_url = args.endpoint_url,
                                             .max_connections = connections}));
    s->store = std::make_unique<objstore::s3::S3ObjectStore>(s->s3.client.get());
    return s;
  }
  CAIRN_ASSIGN_OR_RETURN(SwiftConnection swift, ConnectSwift(connections));
  s->http = std::move(swift.http);
  s->swift = std::move(swift.client);
  s->store = std::make_unique<objstore::swift::SwiftObjectStore>(s->swift.get());
  return s;
}

// A FileSystem over a location's side: a container, or the local disk (root "/").
Result<std::unique_ptr<ofs::FileSystem>> FileSystemFor(const Location& l, Store* store) {
  if (IsRemote(l)) {
    CAIRN_ASSIGN_OR_RETURN(
        std::unique_ptr<ofs::ObjectFileSystem> fs,
        ofs::ObjectFileSystem::Create(store->store.get(), l.container, {.threads = g_jobs}));
    return std::unique_ptr<ofs::FileSystem>(std::move(fs));
  }
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ofs::LocalFileSystem> fs,
                         ofs::LocalFileSystem::OpenRoot("/"));
  return std::unique_ptr<ofs::FileSystem>(std::move(fs));
}

// The path of a location inside FileSystemFor's file system.
std::string FsPath(const Location& l) {
  if (IsRemote(l)) return l.key;
  std::string abs = std::filesystem::absolute(l.key).lexically_normal().string();
  return abs.substr(abs.find_first_not_of('/') == std::string::npos ? abs.size()
                                                                    : abs.find_first_not_of('/'));
}

std::string Time(int64_t t) { return FormatUtc(t, "%Y-%m-%d %H:%M:%S"); }

Status RunLs(const FsCommandArgs& args, const Location& l, ObjectStore& store) {
  std::string out;
  if (l.container.empty()) {
    CAIRN_ASSIGN_OR_RETURN(std::vector<std::string> containers, store.ListContainers());
    for (const std::string& c : containers) {
      out += args.json ? "{\"bucket\":" + JsonString(c) + "}\n" : c + "\n";
    }
    return WriteStdout(out);
  }
  objstore::ListOptions options{
      .prefix = l.key, .delimiter = args.recursive ? "" : "/", .marker = "", .max_keys = 1000};
  size_t shown_from = args.recursive ? 0 : l.key.rfind('/') + 1;  // npos + 1 == 0
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(objstore::ListPage page, store.List(l.container, options));
    for (const std::string& p : page.common_prefixes) {
      out += args.json ? "{\"prefix\":" + JsonString(p) + "}\n"
                       : std::string(30, ' ') + "PRE " + p.substr(shown_from) + "\n";
    }
    for (const objstore::ListedObject& o : page.objects) {
      if (args.json) {
        out += "{\"key\":" + JsonString(o.key) + ",\"size\":" + std::to_string(o.size) +
               ",\"etag\":" + JsonString(o.etag) +
               ",\"last_modified\":" + std::to_string(o.last_modified) + "}\n";
      } else {
        std::string size = std::to_string(o.size);
        out += Time(o.last_modified) + " " +
               std::string(size.size() < 10 ? 10 - size.size() : 0, ' ') + size + " " +
               o.key.substr(std::min(shown_from, o.key.size())) + "\n";
      }
    }
    CAIRN_RETURN_IF_ERROR(WriteStdout(out));
    out.clear();
    if (page.next_marker.empty()) return Status();
    options.marker = page.next_marker;
  }
}

Status RunStat(const FsCommandArgs& args, const Location& l, ObjectStore& store) {
  if (l.key.empty()) return InvalidArgumentError("stat needs " + l.text + "/object");
  CAIRN_ASSIGN_OR_RETURN(objstore::ObjectAttributes a, store.Head(l.container, l.key));
  std::string out;
  if (args.json) {
    out = "{\"key\":" + JsonString(l.key) + ",\"size\":" + std::to_string(a.size) +
          ",\"etag\":" + JsonString(a.etag) +
          ",\"last_modified\":" + std::to_string(a.last_modified) +
          ",\"content_type\":" + JsonString(a.content_type) +
          ",\"version_id\":" + JsonString(a.version_id) + ",\"metadata\":{";
    bool first = true;
    for (const auto& [name, value] : a.metadata) {
      out += (first ? "" : ",") + JsonString(name) + ":" + JsonString(value);
      first = false;
    }
    out += "}}\n";
  } else {
    out = "name:          " + l.text + "\nsize:          " + std::to_string(a.size) +
          "\netag:          " + a.etag + "\nlast modified: " + Time(a.last_modified) +
          " UTC\ncontent type:  " + a.content_type + "\n";
    for (const auto& [name, value] : a.metadata)
      out += "metadata:      " + name + "=" + value + "\n";
  }
  return WriteStdout(out);
}

Status RunCat(const Location& l, ObjectStore& store) {
  if (l.key.empty()) return InvalidArgumentError("cat needs " + l.text + "/object");
  Md5 md5;
  CAIRN_ASSIGN_OR_RETURN(objstore::ObjectAttributes a,
                         store.Get(l.container, l.key, {}, [&](std::string_view p) {
                           md5.Update(p);
                           return WriteStdout(p);
                         }));
  std::string got = HexEncode(md5.Finish());
  if (!a.composite && a.etag.size() == 32 && got != a.etag) {
    return DataLossError("cat " + l.text + ": the bytes' MD5 " + got + " is not the ETag " +
                         a.etag);
  }
  return Status();
}

// Streams one file between two file systems (or standard input/output).
Status CopyThrough(ofs::FileSystem* from, const Location& src, const std::string& src_path,
                   ofs::FileSystem* to, const Location& dst, const std::string& dst_path) {
  std::unique_ptr<ofs::FileWriter> writer;
  if (dst.kind != Kind::kStdio) {
    CAIRN_ASSIGN_OR_RETURN(writer, to->Create(dst_path));
  }
  auto put = [&](std::string_view bytes) {
    return writer ? writer->Write(bytes) : WriteStdout(bytes);
  };
  std::string buffer(8 << 20, '\0');  // 8 MiB at a time
  if (src.kind == Kind::kStdio) {
    for (;;) {
      ssize_t n = ::read(0, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return ErrnoError("read standard input", errno);
      if (n == 0) break;
      CAIRN_RETURN_IF_ERROR(put(std::string_view(buffer.data(), static_cast<size_t>(n))));
    }
  } else {
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ofs::FileReader> reader,
                           from->Open(src_path, {.policy = objstore::ReadPolicy::kSequential}));
    for (;;) {
      CAIRN_ASSIGN_OR_RETURN(size_t n, reader->Read(buffer));
      if (n == 0) break;
      CAIRN_RETURN_IF_ERROR(put(std::string_view(buffer.data(), n)));
    }
  }
  return writer ? writer->Close() : Status();
}

int RunCopyCommand(const FsCommandArgs& args, const Location& src, const Location& dst) {
  const bool move = args.verb == "mv";
  if (move && (src.kind == Kind::kStdio || dst.kind == Kind::kStdio)) {
    std::fprintf(stderr, "cairn: obj mv: cannot move standard input or output\n");
    return kExitUsage;
  }
  std::unique_ptr<Store> src_store, dst_store;
  if (IsRemote(src)) {
    Result<std::unique_ptr<Store>> s = Connect(src.kind, args);
    if (!s.ok()) return ReportError(s.status());
    src_store = std::move(*s);
  }
  if (IsRemote(dst)) {
    if (dst.kind == src.kind) {
      dst_store = nullptr;  // the same connection
    } else {
      Result<std::unique_ptr<Store>> s = Connect(dst.kind, args);
      if (!s.ok()) return ReportError(s.status());
      dst_store = std::move(*s);
    }
  }
  Store* to_store = dst_store ? dst_store.get() : src_store.get();
  auto from = FileSystemFor(src, src_store.get());
  auto to = FileSystemFor(dst, to_store);
  if (!from.ok()) return ReportError(from.status());
  if (!to.ok()) return ReportError(to.status());
  const bool same_store = IsRemote(src) && dst.kind == src.kind;
  const std::string src_path = src.kind == Kind::kStdio ? "" : FsPath(src);
  std::string dst_path = dst.kind == Kind::kStdio ? "" : FsPath(dst);

  // A directory moved within one container: one FileSystem rename (copies and bulk deletes on
  // --jobs threads).
  if (move && same_store && src.container == dst.container) {
    Status s = (*from)->Rename(src_path, dst_path);
    if (!s.ok()) return ReportError(s);
    if (!args.quiet) std::printf("move: %s to %s\n", src.text.c_str(), dst.text.c_str());
    return kExitOk;
  }
  // The files to copy: one, or every file below the source.
  std::vector<std::pair<std::string, std::string>> files;
  if (args.recursive && src.kind != Kind::kStdio) {
    Result<std::vector<ofs::FileStatus>> all =
        ofs::ListAll(**from, src_path, {.recursive = true, .page_size = 1000});
    if (!all.ok()) return ReportError(all.status());
    for (const ofs::FileStatus& f : *all) {
      std::string rel = f.path.size() > src_path.size() && !src_path.empty()
                            ? f.path.substr(src_path.size() + 1)
                            : f.path.substr(src_path.size());
      files.emplace_back(f.path, ofs::JoinPath(dst_path, rel));
    }
  } else {
    if (dst.kind != Kind::kStdio &&
        (dst.text.ends_with('/') ||
         ((*to)->Stat(dst_path).ok() && (*to)->Stat(dst_path)->is_directory()))) {
      dst_path = ofs::JoinPath(dst_path, ofs::BaseName(src_path));
    }
    files.emplace_back(src_path, dst_path);
  }
  auto describe = [](const Location& l, const std::string& path) {
    return IsRemote(l) ? (l.kind == Kind::kS3 ? "s3://" : "swift://") + l.container + "/" + path
                       : (l.kind == Kind::kStdio ? std::string("-") : "/" + path);
  };
  std::mutex print_mu;
  int failed = 0;
  auto one = [&](const std::string& from_path, const std::string& to_path) -> Status {
    Status s;
    if (same_store) {
      ObjectStore& store = *src_store->store;
      s = move ? store.Rename(src.container, from_path, dst.container, to_path).status()
               : store.Copy(src.container, from_path, dst.container, to_path).status();
    } else {
      s = CopyThrough(from->get(), src, from_path, to->get(), dst, to_path);
      if (s.ok() && move) s = (*from)->Delete(from_path);
    }
    std::lock_guard lock(print_mu);
    if (!s.ok()) {
      ++failed;
      std::fprintf(stderr, "cairn: %s failed: %s\n", move ? "move" : "copy", s.ToString().c_str());
    } else if (!args.quiet && dst.kind != Kind::kStdio) {
      std::printf("%s: %s to %s\n", move ? "move" : "copy", describe(src, from_path).c_str(),
                  describe(dst, to_path).c_str());
    }
    return Status();
  };
  if (files.size() == 1) {
    one(files[0].first, files[0].second).IgnoreError();
  } else {
    Result<std::unique_ptr<ThreadPool>> pool = ThreadPool::Create(
        {.num_threads = g_jobs, .queue_capacity = 2 * static_cast<size_t>(g_jobs)});
    if (!pool.ok()) return ReportError(pool.status());
    TaskGroup group(pool->get());
    for (const auto& f : files) group.Add([&one, &f] { return one(f.first, f.second); });
    group.Wait().IgnoreError();
  }
  return failed == 0 ? kExitOk : kExitError;
}

}  // namespace

bool UseFsCommand(std::string_view verb, std::string_view url, std::string_view destination,
                  bool recursive) {
  if (url.starts_with("swift://") || destination.starts_with("swift://")) return true;
  if (verb == "rm" && recursive && url.starts_with("s3://")) return true;
  if (verb == "mv" && recursive && url.starts_with("s3://") && destination.starts_with("s3://")) {
    return Parse(url).container == Parse(destination).container;
  }
  return false;
}

void AddJobsFlag(CLI::App* command) {
  command->add_option("--jobs", g_jobs,
                      "Copies, renames and deletes in flight with -r (default 16)");
}

int RunFsCopy(const FsCommandArgs& args) {
  if (g_jobs < 1 || g_jobs > 1024) {
    std::fprintf(stderr, "cairn: obj %s: --jobs must be 1..1024\n", args.verb.c_str());
    return kExitUsage;
  }
  return RunCopyCommand(args, Parse(args.url), Parse(args.destination));
}

Status RunFsCommand(const FsCommandArgs& args) {
  if (g_jobs < 1 || g_jobs > 1024) return InvalidArgumentError("--jobs must be 1..1024");
  Location l = Parse(args.url);
  if (!IsRemote(l)) return InvalidArgumentError("\"" + args.url + "\" is not an object URL");
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Store> s, Connect(l.kind, args));
  ObjectStore& store = *s->store;
  if (args.verb == "ls") return RunLs(args, l, store);
  if (args.verb == "stat") return RunStat(args, l, store);
  if (args.verb == "cat") return RunCat(l, store);
  if (args.verb == "mb" || args.verb == "rb") {
    if (l.container.empty() || !l.key.empty()) {
      return InvalidArgumentError(args.verb + " needs a bucket or container URL");
    }
    if (args.verb == "mb") {
      CAIRN_RETURN_IF_ERROR(store.CreateContainer(l.container));
      return WriteStdout("make_bucket: " + l.container + "\n");
    }
    if (args.force) {
      CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ofs::FileSystem> fs, FileSystemFor(l, s.get()));
      CAIRN_RETURN_IF_ERROR(fs->Delete("", {.recursive = true}));
    }
    CAIRN_RETURN_IF_ERROR(store.DeleteContainer(l.container));
    return WriteStdout("remove_bucket: " + l.container + "\n");
  }
  if (args.verb == "rm") {
    if (!args.recursive) {
      if (l.key.empty()) return InvalidArgumentError("rm needs " + args.url + "/object (or -r)");
      CAIRN_RETURN_IF_ERROR(store.Delete(l.container, l.key));
      return WriteStdout("delete: " + args.url + "\n");
    }
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<ofs::FileSystem> fs, FileSystemFor(l, s.get()));
    CAIRN_RETURN_IF_ERROR(fs->Delete(l.key, {.recursive = true}));
    return WriteStdout("deleted: " + args.url + "\n");
  }
  return InvalidArgumentError("obj " + args.verb + " does not take " + args.url);
}

}  // namespace cairn::cli
