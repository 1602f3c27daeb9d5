// cairn mpu begin | put | complete | abort | status — one S3 object from many workers
// (objstore/mpu, docs/mpu.md).
#include <CLI/CLI.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cairn/cli/command.h"
#include "cairn/cli/obj_transfer_commands.h"
#include "cairn/http/curl_http_client.h"
#include "cairn/io/env.h"
#include "cairn/objstore/mpu/coordinator.h"
#include "cairn/objstore/mpu/session.h"
#include "cairn/objstore/mpu/worker.h"

namespace cairn::cli {
namespace {

namespace mpu = objstore::mpu;
using Json = nlohmann::json;

struct MpuArgs {
  std::string url;
  int workers = 0;
  std::string deadline = "24h";
  bool presign = false;
  std::string part_size = "8MiB";
  std::string min_part_size = "5MiB";
  std::string content_type;
  std::string session_out;
  std::string session;
  int worker = -1;
  std::string input = "-";
  int concurrency = 4;
  std::vector<std::string> receipt_files;
  std::string receipts_dir;
  std::string profile;
  std::string region;
  std::string endpoint_url;
};

// "8MiB", "8M", "5242880" (a bare number is bytes; M and MB are taken as MiB, as the aws CLI does).
Result<uint64_t> ParseBytes(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
  if (digits == 0 || digits > 15)
    return InvalidArgumentError("bad size \"" + std::string(text) + "\"");
  const uint64_t n = std::stoull(std::string(text.substr(0, digits)));
  std::string unit(text.substr(digits));
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (unit.empty() || unit == "b") return n;
  if (unit == "k" || unit == "kb" || unit == "kib") return n << 10;
  if (unit == "m" || unit == "mb" || unit == "mib") return n << 20;
  if (unit == "g" || unit == "gb" || unit == "gib") return n << 30;
  return InvalidArgumentError("bad size unit in \"" + std::string(text) + "\" (KiB, MiB, GiB)");
}

Result<mpu::Session> LoadSession(const std::string& path) {
  if (path.empty()) return InvalidArgumentError("--session FILE is required");
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<io::FileContents> text, ReadInput(path));
  Result<mpu::Session> session = mpu::ParseSession(text->data());
  if (!session.ok()) return session.status().WithContext(path);
  return session;
}

// The coordinator's connection: the caller's credentials, the session's endpoint and region.
Result<S3Connection> ConnectFor(const mpu::Session& session, const MpuArgs& args) {
  return ConnectS3(
      {.profile = args.profile,
       .region = args.region.empty() ? session.region : args.region,
       .endpoint_url = args.endpoint_url.empty() ? session.endpoint : args.endpoint_url,
       .max_connections = std::max(args.concurrency, 4)});
}

Status RunBegin(const MpuArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(S3Path path, ParseS3Path(args.url));
  CAIRN_ASSIGN_OR_RETURN(int64_t deadline, mpu::ParseDurationSeconds(args.deadline));
  CAIRN_ASSIGN_OR_RETURN(uint64_t part_size, ParseBytes(args.part_size));
  CAIRN_ASSIGN_OR_RETURN(uint64_t min_part_size, ParseBytes(args.min_part_size));
  if (args.workers < 1 || args.workers > mpu::kMaxWorkers) {
    return InvalidArgumentError("--workers must be 1.." + std::to_string(mpu::kMaxWorkers));
  }
  CAIRN_ASSIGN_OR_RETURN(S3Connection s3, ConnectS3({.profile = args.profile,
                                                     .region = args.region,
                                                     .endpoint_url = args.endpoint_url,
                                                     .max_connections = 4}));
  CAIRN_ASSIGN_OR_RETURN(mpu::Session session, mpu::Begin(s3.client.get(), io::Env::Default(),
                                                          {.bucket = path.bucket,
                                                           .key = path.key,
                                                           .workers = args.workers,
                                                           .deadline_seconds = deadline,
                                                           .presign = args.presign,
                                                           .part_size = part_size,
                                                           .min_part_size = min_part_size,
                                                           .max_parts = mpu::kMaxParts,
                                                           .content_type = args.content_type}));
  const std::string json = mpu::SessionToJson(session);
  // A presigned session grants uploads until the deadline: the file is made private.
  if (!args.session_out.empty()) return WriteSecretFile(args.session_out, json);
  return WriteStdout(json);
}

// The partition's reader: a file (its size known) or standard input.
struct Input {
  int fd = -1;
  bool owned = false;
  std::optional<uint64_t> size;
  ~Input() {
    if (owned) ::close(fd);
  }
};

Result<std::unique_ptr<Input>> OpenInput(const std::string& path) {
  auto input = std::make_unique<Input>();
  if (path == "-") {
    input->fd = 0;
  } else {
    input->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (input->fd < 0) return ErrnoError("open " + path, errno);
    input->owned = true;
  }
  struct stat st;
  if (::fstat(input->fd, &st) == 0 && S_ISREG(st.st_mode)) {
    input->size = static_cast<uint64_t>(st.st_size);
  }
  return input;
}

Result<mpu::Receipt> Put(const mpu::Session& session, const MpuArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Input> input, OpenInput(args.input));
  const std::string name = args.input == "-" ? "standard input" : args.input;
  mpu::PartitionReader read = [&input, &name](std::span<char> buffer) -> Result<size_t> {
    for (;;) {
      ssize_t n = ::read(input->fd, buffer.data(), buffer.size());
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return ErrnoError("read " + name, errno);
    }
  };
  io::Env* env = io::Env::Default();
  const mpu::WorkerOptions options{.concurrency = std::max(1, args.concurrency), .run_id = ""};
  if (session.is_presigned()) {
    // Nothing but the session's URLs: no credentials are looked for at all.
    http::CurlHttpClientOptions http_options;
    http_options.max_connections_per_endpoint = options.concurrency + 1;
    CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<http::CurlHttpClient> http,
                           http::CurlHttpClient::Create(http_options));
    mpu::PresignedPartTarget target(http.get(), env, &session, args.worker);
    return mpu::UploadPartition(session, args.worker, read, input->size, &target, env, options);
  }
  CAIRN_ASSIGN_OR_RETURN(S3Connection s3, ConnectFor(session, args));
  mpu::ClientPartTarget target(s3.client.get(), &session, args.worker);
  return mpu::UploadPartition(session, args.worker, read, input->size, &target, env, options);
}

int RunPut(const MpuArgs& args) {
  Result<mpu::Session> session = LoadSession(args.session);
  if (!session.ok()) return ReportError(session.status());
  if (args.worker < 0 || args.worker >= session->workers) {
    return ReportError(
        InvalidArgumentError("--worker must be 0.." + std::to_string(session->workers - 1)));
  }
  Result<mpu::Receipt> receipt = Put(*session, args);
  if (receipt.ok()) {
    Status written = WriteStdout(mpu::ReceiptToJson(*receipt));
    return written.ok() ? kExitOk : ReportError(written);
  }
  // A failure receipt tells `complete` to abort at once instead of waiting for the deadline.
  mpu::Receipt failed;
  failed.upload_id = session->upload_id;
  failed.worker = args.worker;
  failed.finished = io::Env::Default()->NowUnixSeconds();
  failed.error = std::string(receipt.status().message());
  WriteStdout(mpu::ReceiptToJson(failed)).IgnoreError();
  return ReportError(receipt.status());
}

// Reads every receipt named on the command line or found in the directory.
Result<mpu::ReceiptBatch> PollReceipts(const MpuArgs& args) {
  std::vector<std::string> paths = args.receipt_files;
  if (!args.receipts_dir.empty()) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(args.receipts_dir, ec)) {
      if (entry.is_regular_file()) paths.push_back(entry.path().string());
    }
    if (ec) return ErrnoError("list " + args.receipts_dir, ec.value());
    std::sort(paths.begin(), paths.end());
  }
  mpu::ReceiptBatch batch;
  for (const std::string& path : paths) {
    Result<std::unique_ptr<io::FileContents>> text = io::Env::Default()->ReadFile(path);
    if (!text.ok()) {
      batch.unreadable.push_back(path + ": " + std::string(text.status().message()));
      continue;
    }
    std::string_view data = (*text)->data();
    // A file may hold several receipts, one per line (a worker's output appended to one file).
    while (!data.empty()) {
      size_t end = data.find('\n');
      std::string_view line = data.substr(0, end);
      data.remove_prefix(end == std::string_view::npos ? data.size() : end + 1);
      if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
      Result<mpu::Receipt> receipt = mpu::ParseReceipt(line);
      if (receipt.ok()) {
        batch.receipts.push_back(std::move(*receipt));
      } else {
        batch.unreadable.push_back(path + ": " + std::string(receipt.status().message()));
      }
    }
  }
  return batch;
}

Status RunComplete(const MpuArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(mpu::Session session, LoadSession(args.session));
  if (args.receipt_files.empty() == args.receipts_dir.empty()) {
    return InvalidArgumentError("give the receipts as files or as --receipts DIR (one of them)");
  }
  CAIRN_ASSIGN_OR_RETURN(S3Connection s3, ConnectFor(session, args));
  mpu::Coordinator coordinator(s3.client.get(), io::Env::Default(), session);
  CAIRN_ASSIGN_OR_RETURN(
      mpu::CompleteResult done,
      coordinator.Complete([&args] { return PollReceipts(args); },
                           {.wait = !args.receipts_dir.empty(), .poll_interval_micros = 500'000}));
  Json j{{"url", "s3://" + session.bucket + "/" + session.key},
         {"etag", done.etag},
         {"size", done.size},
         {"parts", done.parts},
         {"copied_parts", done.copied_parts},
         {"direct_heads", done.direct_heads},
         {"joined_parts", done.joined_parts},
         {"coordinator_bytes", done.joined_bytes},
         {"duplicate_receipts", done.duplicate_receipts}};
  return WriteStdout(j.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n");
}

Status RunAbort(const MpuArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(mpu::Session session, LoadSession(args.session));
  CAIRN_ASSIGN_OR_RETURN(S3Connection s3, ConnectFor(session, args));
  mpu::Coordinator coordinator(s3.client.get(), io::Env::Default(), session);
  CAIRN_ASSIGN_OR_RETURN(std::string account, coordinator.Abort());
  return WriteStdout(account + "\n");
}

Status RunStatus(const MpuArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(mpu::Session session, LoadSession(args.session));
  CAIRN_ASSIGN_OR_RETURN(S3Connection s3, ConnectFor(session, args));
  mpu::Coordinator coordinator(s3.client.get(), io::Env::Default(), session);
  CAIRN_ASSIGN_OR_RETURN(mpu::UploadStatus status, coordinator.Query());
  using State = mpu::UploadStatus::State;
  Json j{{"url", "s3://" + session.bucket + "/" + session.key},
         {"upload_id", session.upload_id},
         {"state", status.state == State::kInProgress  ? "in-progress"
                   : status.state == State::kCompleted ? "completed"
                                                       : "gone"},
         {"deadline", FormatUtc(session.deadline, "%Y-%m-%dT%H:%M:%SZ")},
         {"seconds_left", status.seconds_left}};
  if (status.state == State::kCompleted) {
    j["etag"] = status.etag;
    j["size"] = status.size;
  }
  if (status.state == State::kInProgress) {
    Json workers = Json::array();
    for (int w = 0; w < session.workers; ++w) {
      workers.push_back({{"worker", w},
                         {"parts", status.worker_parts[w]},
                         {"bytes", status.worker_bytes[w]},
                         {"head", status.worker_head[w]}});
    }
    j["workers"] = std::move(workers);
  }
  return WriteStdout(j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
}

}  // namespace

void RegisterMpuCommands(CLI::App& app, RunState* state) {
  static MpuArgs args;  // CLI11 binds options by address
  CLI::App* group =
      AddCommandGroup(app, "mpu", "One S3 object from many workers (distributed multipart upload)");
  group->footer(
      "A coordinator begins the upload and hands the session to N workers; each worker\n"
      "uploads its partition and prints a receipt; complete joins them into one object whose\n"
      "bytes are the partitions in worker order. docs/mpu.md has the design.\n"
      "\n"
      "Example (8 workers through xargs):\n"
      "  cairn mpu begin s3://bucket/out.bin --workers 8 --session-out s.json\n"
      "  seq 0 7 | xargs -P8 -I{} sh -c 'cairn mpu put --session s.json --worker {} part{} "
      "> r/{}.json'\n"
      "  cairn mpu complete --session s.json --receipts r/");
  auto add_store = [](CLI::App* cmd) {
    cmd->add_option("--profile", args.profile, "AWS profile (~/.aws/credentials, ~/.aws/config)");
    cmd->add_option("--region", args.region, "Region (default: the session's)");
    cmd->add_option("--endpoint-url", args.endpoint_url, "S3 endpoint (default: the session's)");
  };
  auto status_callback = [state](Status (*run)(const MpuArgs&)) {
    return [state, run] {
      Status s = run(args);
      if (!s.ok()) state->exit_code = ReportError(s);
    };
  };

  CLI::App* begin = group->add_subcommand("begin", "Start an upload; print its session (JSON)");
  begin->add_option("URL", args.url, "s3://bucket/key of the object to make")->required();
  begin->add_option("--workers", args.workers, "How many workers (1..5000)")->required();
  begin->add_option("--deadline", args.deadline,
                    "Workers stop and complete aborts after this long (90s, 30m, 2h, 1d; 24h)");
  begin->add_flag("--presign", args.presign,
                  "Put presigned part URLs in the session: workers need no credentials");
  begin->add_option("--part-size", args.part_size, "Preferred part size (default 8MiB)");
  begin->add_option("--min-part-size", args.min_part_size,
                    "The store's minimum part size (default 5MiB, S3's)");
  begin->add_option("--content-type", args.content_type, "Content-Type of the object");
  begin->add_option("--session-out", args.session_out,
                    "Write the session to FILE (mode 0600) instead of standard output");
  add_store(begin);
  begin->callback(status_callback(RunBegin));

  CLI::App* put = group->add_subcommand("put", "Upload worker I's partition; print its receipt");
  put->add_option("--session", args.session, "The session file")->required();
  put->add_option("--worker", args.worker, "This worker's index, 0..N-1")->required();
  put->add_option("PATH", args.input, "The partition: a file, or - for standard input");
  put->add_option("--concurrency", args.concurrency, "Parts in flight (default 4)");
  add_store(put);
  put->footer("On failure it still prints a receipt, with \"error\", so complete aborts at once.");
  put->callback([state] { state->exit_code = RunPut(args); });

  CLI::App* complete = group->add_subcommand(
      "complete", "Join the workers' parts into the object, or abort on any failure");
  complete->add_option("--session", args.session, "The session file")->required();
  complete->add_option("RECEIPT", args.receipt_files, "Receipt files (one or more per worker)");
  complete->add_option("--receipts", args.receipts_dir,
                       "A directory of receipts: wait for every worker's until the deadline");
  add_store(complete);
  complete->callback(status_callback(RunComplete));

  CLI::App* abort = group->add_subcommand(
      "abort", "Abort the upload, delete its head pieces, check nothing is left");
  abort->add_option("--session", args.session, "The session file")->required();
  add_store(abort);
  abort->callback(status_callback(RunAbort));

  CLI::App* status = group->add_subcommand("status", "Show the upload's progress per worker");
  status->add_option("--session", args.session, "The session file")->required();
  add_store(status);
  status->callback(status_callback(RunStatus));
}

}  // namespace cairn::cli
