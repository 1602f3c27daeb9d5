// cairn mount — collections as plain files over FUSE 3 (docs/mount.md; src/cairn/mount).
//
//   cairn mount MOUNTPOINT [--foreground] [--collection ID] [--ttl S] [--cache-mib N]
//               [--disk-cache-dir DIR] [--disk-cache-mib N]
//   cairn mount --exec MOUNTPOINT -- CMD ARGS...   mount, run CMD, unmount, exit with its status
//   cairn mount --unmount MOUNTPOINT               fusermount3 -u
//
// Settings as `cairn get`: --api-host, else CAIRN_API_HOST, else ~/.config/cairn/config; the
// token from --token-file, else CAIRN_API_TOKEN, else the config file (never from argv).
#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cairn/cli/command.h"
#include "cairn/client/catalog_client.h"
#include "cairn/client/disk_block_cache.h"
#include "cairn/client/keep_client.h"
#include "cairn/http/curl_http_client.h"
#include "cairn/io/env.h"
#include "cairn/mount/fuse_mount.h"
#include "cairn/mount/sources.h"
#include "cairn/mount/tree.h"
#include "cairn/mount/writable.h"

extern char** environ;

namespace cairn::cli {
namespace {

constexpr uint64_t kMiB = uint64_t{1} << 20;
constexpr uint64_t kBlockBytes = 64 * kMiB;  // Keep's largest block

struct MountArgs {
  std::string api_host;
  std::string token_file;
  std::string mountpoint;
  std::string collection;
  std::vector<std::string> command;
  std::string log_file;
  std::string spool_dir;  // --read-write: empty means ~/.cache/cairn/mount/spool-<pid>
  int64_t spool_mib = 0;  // 0: 16 GiB
  int ttl_seconds = 60;
  int64_t cache_mib = 0;        // 0: min(1 GiB, RAM / 8)
  std::string disk_cache_dir;   // empty: $XDG_CACHE_HOME or ~/.cache, then cairn/blocks
  int64_t disk_cache_mib = -1;  // -1: min(10 GiB, 10% of the free space); 0: no disk cache
  int readahead_blocks = 0;     // 0: from the cache size
  int threads = 16;
  bool foreground = false;
  bool exec = false;
  bool unmount = false;
  bool allow_other = false;
  bool debug = false;
  bool read_write = false;
};

uint64_t DefaultCacheBytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  uint64_t ram = pages > 0 && page_size > 0 ? uint64_t(pages) * uint64_t(page_size) : 0;
  return std::max<uint64_t>(kBlockBytes, std::min<uint64_t>(1024 * kMiB, ram / 8));
}

// Everything a mount holds, in construction order (destroyed in reverse).
struct MountSession {
  std::unique_ptr<http::CurlHttpClient> http;
  std::unique_ptr<client::CatalogClient> catalog;
  std::unique_ptr<client::KeepClient> keep;
  std::unique_ptr<mount::CatalogCollectionSource> collections;
  std::unique_ptr<mount::KeepBlockSource> blocks;
  std::unique_ptr<mount::CollectionTree> tree;
  std::unique_ptr<mount::ClientCollectionStore> store;  // --read-write
  std::unique_ptr<mount::WriteLayer> writes;            // --read-write; saves what is pending
  std::unique_ptr<mount::FuseMount> fuse;
};

// $XDG_CACHE_HOME, else ~/.cache, else /tmp.
std::string CacheBase() {
  std::string base;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    base = xdg;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    base = std::string(home) + "/.cache";
  } else {
    base = "/tmp";
  }
  return base;
}

// The spool of a read-write mount: --spool, else $XDG_CACHE_HOME or ~/.cache, cairn/mount.
std::string SpoolDir(const MountArgs& args) {
  if (!args.spool_dir.empty()) return args.spool_dir;
  return CacheBase() + "/cairn/mount/spool-" + std::to_string(::getpid());
}

// Connects to the catalog (checking the token), then mounts.
Result<std::unique_ptr<MountSession>> StartMount(const MountArgs& args) {
  std::string host = args.api_host;
  if (host.empty()) {
    CAIRN_ASSIGN_OR_RETURN(host, ClientSetting("CAIRN_API_HOST"));
  }
  if (host.empty()) {
    return InvalidArgumentError(
        "no API host: set CAIRN_API_HOST, --api-host, or CAIRN_API_HOST= in "
        "~/.config/cairn/config");
  }
  std::string token;
  if (!args.token_file.empty()) {
    CAIRN_ASSIGN_OR_RETURN(token, ResolveToken("", args.token_file));
  } else {
    CAIRN_ASSIGN_OR_RETURN(token, ClientSetting("CAIRN_API_TOKEN"));
  }
  if (token.empty()) {
    return InvalidArgumentError(
        "no API token: set CAIRN_API_TOKEN, --token-file, or CAIRN_API_TOKEN= in "
        "~/.config/cairn/config");
  }
  if (args.ttl_seconds < 0) return InvalidArgumentError("--ttl must be 0 or more");
  if (args.disk_cache_mib < -1) return InvalidArgumentError("--disk-cache-mib must be 0 or more");
  if (args.threads < 1) return InvalidArgumentError("--threads must be 1 or more");
  const uint64_t cache_bytes =
      args.cache_mib > 0 ? static_cast<uint64_t>(args.cache_mib) * kMiB : DefaultCacheBytes();
  // A quarter of the cache for each reader's window: readahead must not evict what is read.
  int readahead = args.readahead_blocks > 0
                      ? args.readahead_blocks
                      : static_cast<int>(std::clamp<uint64_t>(cache_bytes / 4 / kBlockBytes, 1, 8));

  CAIRN_ASSIGN_OR_RETURN(std::string base_url, client::ApiBaseUrl(host));
  auto s = std::make_unique<MountSession>();
  CAIRN_ASSIGN_OR_RETURN(
      s->http, http::CurlHttpClient::Create({.connect_timeout = std::chrono::seconds(5)}));
  s->catalog = std::make_unique<client::CatalogClient>(
      s->http.get(), io::Env::Default(),
      client::CatalogClientOptions{.base_url = base_url, .token = token});
  // Fails early on a bad token or an unreachable catalog, before anything is mounted.
  CAIRN_ASSIGN_OR_RETURN(client::User user, s->catalog->CurrentUser());
  client::KeepClientOptions keep_options;
  keep_options.token = token;
  keep_options.cache_bytes = cache_bytes;
  keep_options.prefetch_threads = std::clamp(readahead, 2, 4);
  if (args.disk_cache_mib != 0) {
    keep_options.disk_cache_dir =
        args.disk_cache_dir.empty() ? CacheBase() + "/cairn/blocks" : args.disk_cache_dir;
    keep_options.disk_cache_bytes =
        args.disk_cache_mib > 0
            ? static_cast<uint64_t>(args.disk_cache_mib) * kMiB
            : client::DiskBlockCache::DefaultMaxBytes(keep_options.disk_cache_dir);
  }
  Result<std::unique_ptr<client::KeepClient>> keep =
      client::KeepClient::Create(s->http.get(), s->catalog.get(), io::Env::Default(), keep_options);
  if (!keep.ok() && keep_options.disk_cache_bytes > 0 && args.disk_cache_dir.empty() &&
      args.disk_cache_mib < 0) {
    // The default disk cache is a convenience: without a usable cache dir, mount without it.
    std::fprintf(stderr, "cairn: mount: no disk block cache: %s\n",
                 std::string(keep.status().message()).c_str());
    keep_options.disk_cache_bytes = 0;
    keep = client::KeepClient::Create(s->http.get(), s->catalog.get(), io::Env::Default(),
                                      keep_options);
  }
  CAIRN_ASSIGN_OR_RETURN(s->keep, std::move(keep));
  s->collections = std::make_unique<mount::CatalogCollectionSource>(s->catalog.get());
  s->blocks = std::make_unique<mount::KeepBlockSource>(s->keep.get());
  s->tree = std::make_unique<mount::CollectionTree>(
      s->collections.get(), io::Env::Default(),
      mount::TreeOptions{.collection_id = args.collection,
                         .ttl = std::chrono::seconds(args.ttl_seconds)});
  if (!args.collection.empty()) {
    // The one collection must exist and be readable before it is mounted.
    CAIRN_RETURN_IF_ERROR(s->tree->Resolve("/").status());
  }
  if (args.read_write) {
    if (args.spool_mib < 0) return InvalidArgumentError("--spool-mib must be 0 or more");
    const std::string spool = SpoolDir(args);
    std::error_code ec;
    std::filesystem::create_directories(spool, ec);
    if (ec || ::chmod(spool.c_str(), 0700) != 0) {
      return FailedPreconditionError("mount: cannot make the spool directory " + spool);
    }
    s->store = std::make_unique<mount::ClientCollectionStore>(s->keep.get(), s->catalog.get(),
                                                              /*replication=*/0);
    mount::WriteOptions write_options;
    write_options.user_uuid = user.uuid;
    write_options.collection_id = args.collection;
    write_options.spool_dir = spool;
    if (args.spool_mib > 0) write_options.max_spool_bytes = uint64_t(args.spool_mib) * kMiB;
    s->writes =
        std::make_unique<mount::WriteLayer>(s->tree.get(), s->collections.get(), s->blocks.get(),
                                            s->store.get(), std::move(write_options));
  }
  CAIRN_ASSIGN_OR_RETURN(s->fuse,
                         mount::FuseMount::Mount(args.mountpoint, s->tree.get(), s->blocks.get(),
                                                 {.uid = static_cast<uint32_t>(::getuid()),
                                                  .gid = static_cast<uint32_t>(::getgid()),
                                                  .ttl = std::chrono::seconds(args.ttl_seconds),
                                                  .max_readahead_blocks = readahead,
                                                  .max_threads = args.threads,
                                                  .allow_other = args.allow_other,
                                                  .debug = args.debug,
                                                  .log = nullptr,
                                                  .writes = s->writes.get()}));
  return s;
}

// Blocks the signals the mount's Run takes, so that every thread started from here on (curl,
// prefetch, FUSE workers) leaves them to the thread that serves the mount.
void BlockMountSignals() {
  BlockTerminationSignals();
  sigset_t hup;
  sigemptyset(&hup);
  sigaddset(&hup, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &hup, nullptr);
}

// Runs `argv` (PATH lookup) with default signal handling and waits for it: its exit status,
// 128 + the signal that ended it, or 127 when it could not be started.
int RunCommand(const std::vector<std::string>& command) {
  std::vector<char*> argv;
  for (const std::string& word : command) argv.push_back(const_cast<char*>(word.c_str()));
  argv.push_back(nullptr);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGHUP);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  int err = posix_spawnp(&pid, argv[0], nullptr, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (err != 0) {
    ReportError(ErrnoError("mount --exec: cannot run " + command[0], err));
    return 127;  // as shells say "command not found"
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitError;
}

int Unmount(const std::string& mountpoint) {
  int status = RunCommand({"fusermount3", "-u", mountpoint});
  if (status != 0) {
    return ReportError(FailedPreconditionError("unmount " + mountpoint +
                                               ": fusermount3 -u failed (exit status " +
                                               std::to_string(status) + ")"));
  }
  return kExitOk;
}

int Exec(const MountArgs& args) {
  if (args.command.empty()) {
    std::fprintf(stderr, "cairn: mount --exec needs a command: cairn mount --exec DIR -- CMD\n");
    return kExitUsage;
  }
  BlockMountSignals();
  Result<std::unique_ptr<MountSession>> s = StartMount(args);
  if (!s.ok()) return ReportError(s.status());
  mount::FuseMount* fuse = (*s)->fuse.get();
  int command_status = kExitError;
  std::thread runner([&] {
    command_status = RunCommand(args.command);
    fuse->Stop();
  });
  Status served = fuse->Run();
  runner.join();
  if (!served.ok()) ReportError(served);
  return command_status;
}

// Without --foreground: the process forks before any thread starts; the child mounts and tells
// the parent over a pipe whether the mount is live ("" = yes, else the error), then serves in the
// background with its standard streams on /dev/null (or --log).
int Serve(const MountArgs& args) {
  int ready[2] = {-1, -1};
  if (!args.foreground) {
    if (::pipe(ready) != 0) return ReportError(ErrnoError("mount: pipe", errno));
    pid_t pid = ::fork();
    if (pid < 0) return ReportError(ErrnoError("mount: fork", errno));
    if (pid > 0) {
      ::close(ready[1]);
      std::string message;
      char buf[512];
      ssize_t n;
      while ((n = ::read(ready[0], buf, sizeof(buf))) > 0) message.append(buf, size_t(n));
      if (n < 0 || message.empty()) {
        std::fprintf(stderr, "cairn: mount %s: the background process ended before mounting\n",
                     args.mountpoint.c_str());
        return kExitError;
      }
      if (message != "ok") {
        std::fprintf(stderr, "cairn: %s\n", message.c_str());
        return kExitError;
      }
      return kExitOk;
    }
    ::close(ready[0]);
    ::setsid();
  }
  BlockMountSignals();
  Result<std::unique_ptr<MountSession>> s = StartMount(args);
  if (!args.foreground) {
    std::string message = s.ok() ? "ok" : std::string(s.status().message());
    (void)!::write(ready[1], message.data(), message.size());
    ::close(ready[1]);
    if (!s.ok()) return kExitError;
    int null_fd = ::open("/dev/null", O_RDWR);
    int log_fd = args.log_file.empty()
                     ? null_fd
                     : ::open(args.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (log_fd < 0) log_fd = null_fd;
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(null_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    if (::chdir("/") != 0) {
      // The mount does not depend on the working directory; staying is harmless.
    }
  }
  if (!s.ok()) return ReportError(s.status());
  Status served = (*s)->fuse->Run();
  if (!served.ok()) return ReportError(served);
  return kExitOk;
}

}  // namespace

void RegisterMountCommand(CLI::App& app, RunState* state) {
  static MountArgs args;  // CLI11 binds options by address
  CLI::App* cmd = app.add_subcommand("mount", "Show collections as plain files (FUSE)");
  cmd->add_option("MOUNTPOINT", args.mountpoint, "An existing, empty directory")->required();
  cmd->add_option("COMMAND", args.command, "With --exec: the command and its arguments, after --");
  cmd->add_option("--api-host", args.api_host,
                  "Catalog host:port or URL (default: CAIRN_API_HOST, ~/.config/cairn/config)");
  cmd->add_option("--token-file", args.token_file,
                  "File holding the API token (default: CAIRN_API_TOKEN, the config file)");
  cmd->add_flag("-f,--foreground", args.foreground, "Stay in the foreground");
  cmd->add_option("--collection", args.collection,
                  "Mount this one collection (uuid or PDH) at MOUNTPOINT");
  cmd->add_option("--ttl", args.ttl_seconds,
                  "Seconds listings and attributes are trusted (default 60)");
  cmd->add_option("--cache-mib", args.cache_mib,
                  "Block cache in memory, MiB (default: min(1024, RAM/8))");
  cmd->add_option("--disk-cache-dir", args.disk_cache_dir,
                  "Block cache on disk, shared by mounts (default: ~/.cache/cairn/blocks)");
  cmd->add_option("--disk-cache-mib", args.disk_cache_mib,
                  "Block cache on disk, MiB; 0 turns it off (default: min(10240, 10% of the "
                  "free space))");
  cmd->add_option("--readahead-blocks", args.readahead_blocks,
                  "Largest readahead window of a file, in 64 MiB blocks (default: cache/4)");
  cmd->add_option("--threads", args.threads, "Requests served at once (default 16)");
  cmd->add_flag("--allow-other", args.allow_other, "Let other users read the mount");
  cmd->add_option("--log", args.log_file, "In the background: append errors to this file");
  cmd->add_flag("--debug", args.debug, "Trace FUSE requests on stderr (implies --foreground)");
  cmd->add_flag("--exec", args.exec,
                "Mount, run COMMAND, unmount, and exit with the command's status");
  cmd->add_flag("--unmount", args.unmount, "Unmount MOUNTPOINT (fusermount3 -u)");
  cmd->add_flag("--read-write", args.read_write,
                "Create, write, rename and delete files in your collections; saved as a new "
                "version on close");
  cmd->add_option("--spool", args.spool_dir,
                  "--read-write: where written data waits for upload (default: "
                  "~/.cache/cairn/mount/spool-PID)");
  cmd->add_option("--spool-mib", args.spool_mib,
                  "--read-write: most data staged at once, MiB (default 16384)");
  cmd->footer(
      "Layout: by_id/<uuid or PDH>/ (looked up on demand), home/<name>/ (your collections),\n"
      "shared/<name>/ (shared with you). Read-only unless --read-write (your collections; mkdir\n"
      "in home/ makes a collection). Collection directories carry the extended\n"
      "attributes user.cairn.uuid and user.cairn.pdh. Stop with SIGINT/SIGTERM or --unmount.\n"
      "Exit status of --exec: the command's (128 + signal if it was killed, 127 if it could\n"
      "not be started). See docs/mount.md.");
  cmd->callback([state] {
    if (args.unmount) {
      state->exit_code = Unmount(args.mountpoint);
    } else if (args.exec) {
      state->exit_code = Exec(args);
    } else {
      if (!args.command.empty()) {
        std::fprintf(stderr, "cairn: mount: a COMMAND needs --exec\n");
        state->exit_code = kExitUsage;
        return;
      }
      if (args.debug) args.foreground = true;
      state->exit_code = Serve(args);
    }
  });
}

}  // namespace cairn::cli
