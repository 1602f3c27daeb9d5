// cairn obj cp | mv — copies between local files and S3, and within S3 (server-side), on the
// transfer engine (objstore/transfer/transfer.h): local→s3 uploads under a write policy, s3→local
// parallel verified downloads, s3→s3 CopyObject/UploadPartCopy; `-` for standard input/output;
// -r for directories and prefixes, several files in flight at once.
#include "cairn/cli/obj_transfer_commands.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "cairn/cli/obj_fs_commands.h"
#include "cairn/cli/progress.h"
#include "cairn/common/thread_pool.h"
#include "cairn/io/env.h"
#include "cairn/objstore/s3/list_iterator.h"
#include "cairn/objstore/transfer/local_file.h"
#include "cairn/objstore/transfer/transfer.h"

namespace cairn::cli {
namespace {

namespace s3 = objstore::s3;
namespace tr = objstore::transfer;
namespace fs = std::filesystem;

// Set by SIGINT/SIGTERM: transfers stop and multipart uploads are aborted.
std::atomic<bool> g_cancel{false};
extern "C" void OnSignal(int) { g_cancel.store(true); }

struct CpArgs {
  std::string source;
  std::string destination;
  bool recursive = false;
  bool json = false;
  bool quiet = false;
  std::string part_size = "8MiB";
  int concurrency = 8;
  int files_in_flight = 8;
  std::string policy = "stream";
  std::string profile;
  std::string region;
  std::string endpoint_url;
};

// "8MiB", "8M", "8MB" (taken as MiB, as the aws CLI does), "16777216".
Result<uint64_t> ParseSize(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 15)
    return InvalidArgumentError("bad size \"" + std::string(text) + "\"");
  uint64_t n = std::stoull(std::string(text.substr(0, digits)));
  std::string unit(text.substr(digits));
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.empty() || unit == "b") return n;
  if (unit == "k" || unit == "kb" || unit == "kib") return n << 10;
  if (unit == "m" || unit == "mb" || unit == "mib") return n << 20;
  if (unit == "g" || unit == "gb" || unit == "gib") return n << 30;
  return InvalidArgumentError("bad size unit in \"" + std::string(text) + "\" (KiB, MiB, GiB)");
}

// One file of a copy: where from, where to, its size when known (for the overall progress).
struct Job {
  std::string source;       // a path, "-", or s3://bucket/key
  std::string destination;  // likewise
  uint64_t size = 0;
  std::string refused;  // why this file is not copied (a key that would escape the directory)
};

// Whether a key's path relative to the prefix stays inside a local directory.
bool StaysInside(const std::string& rel) {
  if (rel.empty() || rel.front() == '/') return false;
  for (const auto& part : fs::path(rel)) {
    if (part == "..") return false;
  }
  return true;
}

struct Outcome {
  Job job;
  Status status;
  uint64_t bytes = 0;
  int parts = 0;
  std::string etag;
  std::string verified;
  std::string
      part_size_source;  // of a download's part check: metadata, part-number, guessed, single part
  std::string note;      // why a download could not be verified
};

bool IsS3(std::string_view s) { return s.starts_with("s3://"); }

std::string JoinKey(const std::string& prefix, const std::string& rest) {
  if (prefix.empty() || prefix.ends_with('/')) return prefix + rest;
  return prefix + "/" + rest;
}

std::string BaseName(std::string_view path) {
  while (path.size() > 1 && path.ends_with('/')) path.remove_suffix(1);
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// The files a command names: one, or with -r everything under a directory or prefix.
Result<std::vector<Job>> PlanJobs(const CpArgs& args, s3::S3Client* client) {
  std::vector<Job> jobs;
  const bool from_s3 = IsS3(args.source);
  const bool to_s3 = IsS3(args.destination);
  if (!from_s3 && !to_s3) {
    return InvalidArgumentError("one of SOURCE and DESTINATION must be an s3:// URL");
  }
  if (!args.recursive) {
    Job job{args.source, args.destination, 0, ""};
    if (from_s3 && args.destination != "-" && !to_s3) {
      std::error_code ec;
      if (args.destination.ends_with('/') || fs::is_directory(args.destination, ec)) {
        CAIRN_ASSIGN_OR_RETURN(S3Path src, ParseS3Path(args.source));
        job.destination = (fs::path(args.destination) / BaseName(src.key)).string();
      }
    }
    if (to_s3) {
      CAIRN_ASSIGN_OR_RETURN(S3Path dst, ParseS3Path(args.destination));
      if (dst.key.empty() || dst.key.ends_with('/')) {
        std::string name =
            from_s3 ? BaseName(ParseS3Path(args.source)->key) : BaseName(args.source);
        if (args.source == "-")
          return InvalidArgumentError("copying - needs a full s3://bucket/key");
        job.destination = "s3://" + dst.bucket + "/" + dst.key + name;
      }
    }
    if (!from_s3 && args.source != "-") {
      std::error_code ec;
      if (fs::is_directory(args.source, ec)) {
        return InvalidArgumentError(args.source + " is a directory (use -r)");
      }
      job.size = fs::file_size(args.source, ec);
    }
    jobs.push_back(job);
    return jobs;
  }
  if (args.source == "-" || args.destination == "-") {
    return InvalidArgumentError("-r copies directories and prefixes, not standard input/output");
  }
  if (!from_s3) {
    std::error_code ec;
    if (!fs::is_directory(args.source, ec))
      return InvalidArgumentError(args.source + " is not a directory");
    CAIRN_ASSIGN_OR_RETURN(S3Path dst, ParseS3Path(args.destination));
    for (fs::recursive_directory_iterator it(args.source, ec), end; !ec && it != end;
         it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::string rel = fs::relative(it->path(), args.source).generic_string();
      jobs.push_back({it->path().string(), "s3://" + dst.bucket + "/" + JoinKey(dst.key, rel),
                      static_cast<uint64_t>(it->file_size()), ""});
    }
    if (ec) return ErrnoError("walk " + args.source, ec.value());
    return jobs;
  }
  CAIRN_ASSIGN_OR_RETURN(S3Path src, ParseS3Path(args.source));
  std::string prefix = src.key.empty() || src.key.ends_with('/') ? src.key : src.key + "/";
  s3::ListOptions options;
  options.prefix = prefix;
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<s3::ObjectLister> lister,
                         s3::ObjectLister::Start(client, src.bucket, options));
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(std::optional<s3::ObjectSummary> object, lister->Next());
    if (!object) break;
    if (object->key.ends_with('/')) continue;  // a directory marker
    std::string rel = object->key.substr(prefix.size());
    std::string destination;
    if (to_s3) {
      CAIRN_ASSIGN_OR_RETURN(S3Path dst, ParseS3Path(args.destination));
      destination = "s3://" + dst.bucket + "/" + JoinKey(dst.key, rel);
    } else {
      destination = (fs::path(args.destination) / rel).string();
    }
    jobs.push_back(
        {"s3://" + src.bucket + "/" + object->key, destination, static_cast<uint64_t>(object->size),
         !to_s3 && !StaysInside(rel) ? "its key would write outside " + args.destination : ""});
  }
  return jobs;
}

// Copies one file; the outcome carries what the engine reported.
Outcome RunJob(const Job& job, tr::TransferEngine& engine, const tr::ProgressFunction& progress) {
  Outcome out;
  out.job = job;
  auto record = [&](const Status& s) { out.status = s; };
  if (!job.refused.empty()) {
    return record(InvalidArgumentError(job.source + " not copied: " + job.refused)), out;
  }
  if (!IsS3(job.source)) {
    Result<S3Path> dst = ParseS3Path(job.destination);
    if (!dst.ok()) return record(dst.status()), out;
    Result<std::unique_ptr<tr::FileSource>> source = tr::FileSource::Open(job.source);
    if (!source.ok()) return record(source.status()), out;
    Result<tr::UploadResult> r = engine.Upload(**source, dst->bucket, dst->key, {}, progress);
    if (!r.ok()) return record(r.status()), out;
    out.bytes = r->bytes;
    out.parts = r->parts;
    out.etag = r->etag;
    out.verified = r->verified;
    return out;
  }
  Result<S3Path> src = ParseS3Path(job.source);
  if (!src.ok()) return record(src.status()), out;
  if (IsS3(job.destination)) {
    Result<S3Path> dst = ParseS3Path(job.destination);
    if (!dst.ok()) return record(dst.status()), out;
    Result<tr::CopyResult> r = engine.Copy(src->bucket, src->key, dst->bucket, dst->key, progress);
    if (!r.ok()) return record(r.status()), out;
    out.bytes = r->bytes;
    out.parts = r->parts;
    out.etag = r->etag;
    out.verified = r->verified;
    return out;
  }
  std::unique_ptr<tr::ByteSink> sink;
  if (job.destination == "-") {
    sink = std::make_unique<tr::FdSink>(STDOUT_FILENO, "standard output");
  } else {
    std::error_code ec;
    fs::path parent = fs::path(job.destination).parent_path();
    if (!parent.empty()) fs::create_directories(parent, ec);
    Result<std::unique_ptr<tr::FileSink>> file = tr::FileSink::Create(job.destination);
    if (!file.ok()) return record(file.status()), out;
    sink = std::move(*file);
  }
  Result<tr::DownloadResult> r = engine.Download(src->bucket, src->key, *sink, progress);
  if (!r.ok()) return record(r.status()), out;
  out.bytes = r->bytes;
  out.etag = r->etag;
  out.verified = r->verified;
  out.part_size_source = r->part_size_source;
  out.note = r->unverified_reason;
  return out;
}

// Removes the source of a finished move.
Status RemoveSource(const Job& job, s3::S3Client* client) {
  if (IsS3(job.source)) {
    CAIRN_ASSIGN_OR_RETURN(S3Path src, ParseS3Path(job.source));
    return client->DeleteObject(src.bucket, src.key);
  }
  if (::unlink(job.source.c_str()) != 0) return ErrnoError("remove " + job.source, errno);
  return Status();
}

int RunCopy(const CpArgs& args, bool move) {
  const char* verb = move ? "move" : "copy";
  auto usage = [&](const std::string& message) {
    std::fprintf(stderr, "cairn: obj %s: %s\n", move ? "mv" : "cp", message.c_str());
    return kExitUsage;
  };
  if (move && (args.source == "-" || args.destination == "-")) {
    return usage("mv cannot move standard input or output");
  }
  Result<uint64_t> part_size = ParseSize(args.part_size);
  if (!part_size.ok()) return usage(std::string(part_size.status().message()));
  Result<tr::WritePolicy> policy = tr::ParseWritePolicy(args.policy);
  if (!policy.ok()) return usage(std::string(policy.status().message()));
  if (args.concurrency < 1 || args.concurrency > 256) return usage("--concurrency must be 1..256");
  if (!IsS3(args.source) && !IsS3(args.destination)) {
    return usage("one of SOURCE and DESTINATION must be an s3:// URL");
  }

  Result<S3Connection> c = ConnectS3({.profile = args.profile,
                                      .region = args.region,
                                      .endpoint_url = args.endpoint_url,
                                      .max_connections = args.concurrency + 4});
  if (!c.ok()) return ReportError(c.status());
  tr::TransferOptions options;
  options.part_size = *part_size;
  options.concurrency = args.concurrency;
  options.policy = *policy;
  options.cancel = &g_cancel;
  Result<std::unique_ptr<tr::TransferEngine>> engine =
      tr::TransferEngine::Create(c->client.get(), io::Env::Default(), options);
  if (!engine.ok()) return usage(std::string(engine.status().message()));
  Result<std::vector<Job>> jobs = PlanJobs(args, c->client.get());
  if (!jobs.ok()) {
    return jobs.status().code() == StatusCode::kInvalidArgument
               ? usage(std::string(jobs.status().message()))
               : ReportError(jobs.status());
  }

  struct sigaction action {};
  action.sa_handler = OnSignal;
  action.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends the process at once
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  uint64_t total = 0;
  for (const Job& j : *jobs) total += j.size;
  const auto start = std::chrono::steady_clock::now();
  ProgressBar bar(total, ProgressBar::ShouldDraw(args.quiet || args.json));
  std::vector<Outcome> outcomes(jobs->size());
  std::mutex print_mu;
  auto finish = [&](size_t i, Outcome o) {
    if (o.status.ok() && move) o.status = RemoveSource(o.job, c->client.get());
    std::lock_guard lock(print_mu);
    if (!o.status.ok()) {
      bar.Finish();
      std::fprintf(stderr, "cairn: %s failed: %s\n", verb, o.status.ToString().c_str());
    } else if (!args.quiet && !args.json && o.job.destination != "-") {
      std::string line = std::string(move ? "move: " : "copy: ") + o.job.source + " to " +
                         o.job.destination + "\n";
      std::fputs(line.c_str(), stdout);
    }
    outcomes[i] = std::move(o);
  };
  if (jobs->size() == 1) {
    finish(0, RunJob((*jobs)[0], **engine, bar.ForFile()));
  } else {
    // Several files at once (small files are latency-bound); the engine bounds the parts.
    Result<std::unique_ptr<ThreadPool>> files = ThreadPool::Create(
        {.num_threads = std::max(1, args.files_in_flight), .queue_capacity = 16});
    if (!files.ok()) return ReportError(files.status());
    TaskGroup group(files->get());
    for (size_t i = 0; i < jobs->size(); ++i) {
      if (g_cancel.load()) break;
      group.Add([&, i]() -> Status {
        finish(i, RunJob((*jobs)[i], **engine, bar.ForFile()));
        return Status();
      });
    }
    group.Wait().IgnoreError();  // each task records its own outcome
  }
  bar.Finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  int failed = 0;
  uint64_t bytes = 0;
  int parts = 0;
  for (const Outcome& o : outcomes) {
    if (!o.status.ok() || o.job.source.empty()) ++failed;
    bytes += o.bytes;
    parts += o.parts;
  }
  if (g_cancel.load() && failed == 0) failed = 1;
  if (args.json) {
    nlohmann::json summary = {{"ok", failed == 0}, {"files", outcomes.size()}, {"failed", failed},
                              {"bytes", bytes},    {"seconds", seconds},       {"parts", parts}};
    nlohmann::json list = nlohmann::json::array();
    for (const Outcome& o : outcomes) {
      nlohmann::json f = {{"source", o.job.source}, {"destination", o.job.destination},
                          {"bytes", o.bytes},       {"parts", o.parts},
                          {"etag", o.etag},         {"verified", o.verified}};
      if (!o.part_size_source.empty()) f["part_size_source"] = o.part_size_source;
      if (!o.note.empty()) f["unverified_reason"] = o.note;
      if (!o.status.ok()) f["error"] = o.status.ToString();
      list.push_back(std::move(f));
    }
    if (outcomes.size() == 1) {
      for (const auto& [k, v] : list[0].items()) summary[k] = v;
    } else {
      summary["objects"] = std::move(list);
    }
    std::string text = summary.dump() + "\n";
    Status written = WriteStdout(text);
    if (!written.ok()) return ReportError(written);
  } else if (!args.quiet) {
    for (const Outcome& o : outcomes) {
      if (o.status.ok() && !o.note.empty()) {
        std::fprintf(stderr, "cairn: %s: not verified: %s\n", o.job.source.c_str(), o.note.c_str());
      }
    }
  }
  return failed == 0 ? kExitOk : kExitError;
}

}  // namespace

void RegisterObjTransferCommands(CLI::App* obj, RunState* state) {
  static CpArgs args;  // CLI11 binds options by address
  for (bool move : {false, true}) {
    CLI::App* cmd = obj->add_subcommand(
        move ? "mv" : "cp", move ? "Move files or objects (copy, then delete the source)"
                                 : "Copy files to, from and within S3 (parallel, verified)");
    cmd->add_option("SOURCE", args.source, "A path, s3://bucket/key, or - (standard input)")
        ->required();
    cmd->add_option("DESTINATION", args.destination,
                    "A path, s3://bucket/key (or .../ for the same name), or - (standard output)")
        ->required();
    cmd->add_flag("-r,--recursive", args.recursive, "Every file under a directory or prefix");
    cmd->add_option("--part-size", args.part_size,
                    "Preferred part size, e.g. 8MiB, 64MiB (grown to fit 10,000 parts)");
    cmd->add_option("--concurrency", args.concurrency, "Parts in flight (default 8)");
    cmd->add_option("--policy", args.policy,
                    "Upload write policy: stream (default), single (one part at a time), "
                    "spool (parts staged on local disk; for pipes)");
    cmd->add_option("--files", args.files_in_flight, "Files in flight with -r (default 8)");
    cmd->add_flag("--json", args.json, "One JSON summary on stdout (bytes, seconds, parts, ...)");
    cmd->add_flag("-q,--quiet", args.quiet, "No progress bar and no per-file lines");
    cmd->add_option("--profile", args.profile, "AWS profile (~/.aws/credentials, ~/.aws/config)");
    cmd->add_option("--region", args.region,
                    "Region (default: AWS_REGION, the profile, us-east-1)");
    cmd->add_option("--endpoint-url", args.endpoint_url, "S3 endpoint, e.g. http://127.0.0.1:7480");
    cmd->footer(
        "Uploads send Content-MD5 on every part and check the final multipart ETag; any\n"
        "failure aborts the upload. Downloads check the whole-object MD5, or each part's MD5\n"
        "against a multipart ETag, and never leave a file that failed the check.\n"
        "\n"
        "Examples:\n"
        "  cairn obj cp big.bin s3://bucket/data/\n"
        "  cairn obj cp -r ./run42 s3://bucket/run42\n"
        "  cairn obj cp s3://bucket/data/big.bin - | sha256sum\n"
        "  tar c dir | cairn obj cp --policy spool - s3://bucket/dir.tar\n"
        "  cairn obj mv s3://bucket/a s3://bucket/b");
    AddJobsFlag(cmd);
    cmd->callback([move, state] {
      const char* verb = move ? "mv" : "cp";
      // swift:// and mv -r within a bucket go through the FileSystem facade (obj_fs_commands.cc).
      state->exit_code = UseFsCommand(verb, args.source, args.destination, args.recursive)
                             ? RunFsCopy({.verb = verb,
                                          .url = args.source,
                                          .destination = args.destination,
                                          .recursive = args.recursive,
                                          .json = args.json,
                                          .force = false,
                                          .quiet = args.quiet,
                                          .profile = args.profile,
                                          .region = args.region,
                                          .endpoint_url = args.endpoint_url})
                             : RunCopy(args, move);
    });
  }
}

}  // namespace cairn::cli
