// cairn obj read-ranges: reads byte ranges of one object the way a columnar reader does (the
// footer, then column chunks) and reports what it cost: requests, bytes fetched against bytes
// asked, wall time. Through objstore::SeekableReader by default; --naive sends one plain GET per
// range, as a reader without a buffer would. bench/parquet_read.py drives it (issue 5, item 6a).
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/cli/command.h"
#include "cairn/cli/obj_transfer_commands.h"
#include "cairn/common/hash.h"
#include "cairn/common/text.h"
#include "cairn/objstore/object_store.h"
#include "cairn/objstore/s3/s3_object_store.h"
#include "cairn/objstore/seekable_reader.h"

namespace cairn::cli {
namespace {

using objstore::ObjectRange;

struct ReadRangesArgs {
  std::string url;
  std::string ranges;
  std::string policy = "adaptive";
  bool naive = false;
  bool vectored = false;
  bool json = false;
  uint64_t merge_gap = 1 << 20;
  int parallelism = 4;
  S3ConnectionFlags connection;
};

// One range as given: an offset (negative: from the end) and a length.
struct RangeSpec {
  int64_t offset = 0;
  uint64_t length = 0;
};

Result<std::vector<RangeSpec>> ParseRanges(std::string_view text) {
  std::vector<RangeSpec> specs;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string_view item =
        text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    size_t colon = item.find(':');
    const std::string bad = "--ranges: \"" + std::string(item) + "\" is not OFFSET:LENGTH";
    if (colon == std::string_view::npos) return InvalidArgumentError(bad);
    std::string_view off = item.substr(0, colon);
    const bool from_end = off.starts_with('-');
    if (from_end) off.remove_prefix(1);
    std::optional<uint64_t> offset = ParseDecimal(off);
    std::optional<uint64_t> length = ParseDecimal(item.substr(colon + 1));
    if (!offset || !length || *length == 0 || *offset > (uint64_t{1} << 62)) {
      return InvalidArgumentError(bad);
    }
    specs.push_back(
        {.offset = from_end ? -static_cast<int64_t>(*offset) : static_cast<int64_t>(*offset),
         .length = *length});
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return specs;
}

Result<std::vector<ObjectRange>> Resolve(const std::vector<RangeSpec>& specs, uint64_t size,
                                         const std::string& url) {
  std::vector<ObjectRange> ranges;
  for (const RangeSpec& s : specs) {
    const uint64_t magnitude = s.offset < 0 ? static_cast<uint64_t>(-s.offset) : s.offset;
    if (s.offset < 0 && magnitude > size) {
      return OutOfRangeError(url + ": offset -" + std::to_string(magnitude) +
                             " is before the start (" + std::to_string(size) + " bytes)");
    }
    ObjectRange r{.offset = s.offset < 0 ? size - magnitude : magnitude, .length = s.length};
    if (r.offset >= size || r.length > size - r.offset) {
      return OutOfRangeError(url + ": range " + std::to_string(r.offset) + ":" +
                             std::to_string(r.length) + " runs past the end (" +
                             std::to_string(size) + " bytes)");
    }
    ranges.push_back(r);
  }
  return ranges;
}

Result<objstore::ReadPolicy> ParsePolicy(const std::string& name) {
  if (name == "adaptive") return objstore::ReadPolicy::kAdaptive;
  if (name == "random") return objstore::ReadPolicy::kRandom;
  if (name == "sequential") return objstore::ReadPolicy::kSequential;
  return InvalidArgumentError("--policy: \"" + name + "\" is not adaptive, random or sequential");
}

Status RunReadRanges(const ReadRangesArgs& args) {
  CAIRN_ASSIGN_OR_RETURN(S3Path path, ParseS3Path(args.url));
  if (path.key.empty()) return InvalidArgumentError("read-ranges needs s3://bucket/key");
  CAIRN_ASSIGN_OR_RETURN(std::vector<RangeSpec> specs, ParseRanges(args.ranges));
  CAIRN_ASSIGN_OR_RETURN(objstore::ReadPolicy policy, ParsePolicy(args.policy));
  if (args.parallelism < 1) return InvalidArgumentError("--parallelism must be at least 1");
  CAIRN_ASSIGN_OR_RETURN(S3Connection c, ConnectS3(args.connection));
  objstore::s3::S3ObjectStore store(c.client.get());

  const auto start = std::chrono::steady_clock::now();
  uint64_t requests = 1;  // the HEAD that gives the size (and the ETag the reader pins)
  uint64_t fetched = 0;
  uint64_t asked = 0;
  std::vector<std::string> buffers;
  if (args.naive) {
    CAIRN_ASSIGN_OR_RETURN(objstore::ObjectAttributes head, store.Head(path.bucket, path.key));
    CAIRN_ASSIGN_OR_RETURN(std::vector<ObjectRange> ranges, Resolve(specs, head.size, args.url));
    for (const ObjectRange& r : ranges) {
      std::string& out = buffers.emplace_back();
      out.reserve(r.length);
      objstore::ReadOptions read;
      read.range = r;
      ++requests;
      CAIRN_RETURN_IF_ERROR(store
                                .Get(path.bucket, path.key, read,
                                     [&](std::string_view piece) {
                                       out.append(piece);
                                       return Status();
                                     })
                                .status());
      fetched += out.size();
      asked += r.length;
    }
  } else {
    CAIRN_ASSIGN_OR_RETURN(
        std::unique_ptr<objstore::SeekableReader> reader,
        objstore::SeekableReader::Open(&store, path.bucket, path.key, {.policy = policy}));
    CAIRN_ASSIGN_OR_RETURN(std::vector<ObjectRange> ranges,
                           Resolve(specs, reader->size(), args.url));
    for (const ObjectRange& r : ranges) {
      buffers.emplace_back(r.length, '\0');
      asked += r.length;
    }
    if (args.vectored) {
      std::vector<std::span<char>> out(buffers.begin(), buffers.end());
      CAIRN_RETURN_IF_ERROR(reader->ReadVectored(ranges, out, args.merge_gap, args.parallelism));
    } else {
      for (size_t i = 0; i < ranges.size(); ++i) {
        CAIRN_ASSIGN_OR_RETURN(size_t n, reader->ReadAt(ranges[i].offset, buffers[i]));
        if (n != ranges[i].length) {
          return InternalError(args.url + ": short read at " + std::to_string(ranges[i].offset));
        }
      }
    }
    objstore::SeekableReader::Stats stats = reader->stats();
    requests += stats.requests;
    fetched = stats.bytes_fetched;
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // The MD5 of the ranges' bytes in order, so runs in different modes can be compared.
  Md5 md5;
  for (const std::string& b : buffers) md5.Update(b);
  const std::string digest = HexEncode(md5.Finish());
  const std::string mode = args.naive ? "naive" : args.vectored ? "vectored" : "reader";
  char line[512];
  if (args.json) {
    std::snprintf(line, sizeof(line),
                  "{\"mode\":\"%s\",\"ranges\":%zu,\"requests\":%llu,\"bytes_fetched\":%llu,"
                  "\"bytes_asked\":%llu,\"wall_seconds\":%.6f,\"md5\":\"%s\"}\n",
                  mode.c_str(), buffers.size(), static_cast<unsigned long long>(requests),
                  static_cast<unsigned long long>(fetched), static_cast<unsigned long long>(asked),
                  wall, digest.c_str());
  } else {
    std::snprintf(line, sizeof(line),
                  "mode:          %s\nranges:        %zu\nrequests:      %llu (1 HEAD)\n"
                  "bytes fetched: %llu\nbytes asked:   %llu (fetched/asked %.3f)\n"
                  "wall:          %.3f s\nmd5:           %s\n",
                  mode.c_str(), buffers.size(), static_cast<unsigned long long>(requests),
                  static_cast<unsigned long long>(fetched), static_cast<unsigned long long>(asked),
                  asked == 0 ? 0.0 : static_cast<double>(fetched) / static_cast<double>(asked),
                  wall, digest.c_str());
  }
  return WriteStdout(line);
}

}  // namespace

void RegisterObjReadCommands(CLI::App* obj, RunState* state) {
  static ReadRangesArgs args;  // CLI11 binds options by address
  CLI::App* cmd = obj->add_subcommand(
      "read-ranges", "Read byte ranges of an object and report requests and bytes fetched");
  cmd->add_option("URL", args.url, "s3://bucket/key")->required();
  cmd->add_option("--ranges", args.ranges,
                  "OFFSET:LENGTH,... (a negative offset counts from the end: -65536:65536 is "
                  "the last 64 KiB)")
      ->required();
  cmd->add_flag("--naive", args.naive, "One plain GET per range instead of the seekable reader");
  cmd->add_flag("--vectored", args.vectored,
                "All ranges in one vectored read (nearby ranges coalesced, requests in parallel)");
  cmd->add_option("--policy", args.policy, "adaptive (default), random or sequential");
  cmd->add_option("--merge-gap", args.merge_gap,
                  "--vectored: ranges this close are fetched together (default 1 MiB)");
  cmd->add_option("--parallelism", args.parallelism, "--vectored: requests in flight (default 4)");
  cmd->add_flag("--json", args.json, "One JSON object");
  cmd->add_option("--profile", args.connection.profile, "AWS profile");
  cmd->add_option("--region", args.connection.region, "Region");
  cmd->add_option("--endpoint-url", args.connection.endpoint_url, "S3 endpoint");
  cmd->footer(
      "Examples:\n"
      "  cairn obj read-ranges s3://b/data.parquet --ranges -65536:65536,1048576:1048576\n"
      "  cairn obj read-ranges s3://b/data.parquet --ranges -65536:65536 --naive --json");
  cmd->callback([state] {
    Status s = RunReadRanges(args);
    if (!s.ok()) state->exit_code = ReportError(s);
  });
}

}  // namespace cairn::cli
