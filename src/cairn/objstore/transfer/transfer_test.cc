// The transfer engine against MemS3 (an in-memory S3 behind the HttpClient interface), with and
// without injected faults: every policy and size round-trips byte for byte, verification catches
// what it should, and failures abort uploads so nothing is left behind.
#include "cairn/objstore/transfer/transfer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cairn/http/fault_injecting_http_client.h"
#include "cairn/objstore/transfer/mem_s3.h"
#include "cairn/objstore/transfer/part_hash.h"
#include "cairn/objstore/transfer/part_layout.h"
#include "cairn/testing/fake_env.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::objstore::transfer {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;

constexpr uint64_t kPart = kMiB;  // parts of 1 MiB keep the tests fast

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return out;
}

// Equality of two byte strings without printing megabytes on failure.
::testing::AssertionResult SameBytes(const std::string& got, const std::string& want) {
  if (got == want) return ::testing::AssertionSuccess();
  size_t at = 0;
  while (at < got.size() && at < want.size() && got[at] == want[at]) ++at;
  return ::testing::AssertionFailure() << "got " << got.size() << " bytes, want " << want.size()
                                       << ", first difference at " << at;
}

MultipartLimits TestLimits() {
  MultipartLimits limits;
  limits.min_part_size = kPart;
  return limits;
}

class TransferTest : public ::testing::Test {
 protected:
  // `faults`: wrap MemS3 in a FaultInjectingHttpClient with these rates.
  void Init(TransferOptions options = {}, http::FaultRates faults = {}) {
    // Every request may fail, CreateMultipartUpload included: an upload whose creation reply is
    // lost is found and aborted by S3Client, so none is ever left behind.
    mem_.set_clock([this] { return env_.NowUnixSeconds(); });
    fault_ = std::make_unique<http::FaultInjectingHttpClient>(
        &mem_, http::FaultInjectionOptions{.seed = ++seed_, .rates = faults});
    http::HttpClient* http = fault_.get();
    s3::S3Settings settings;
    settings.credentials = {"AKIDEXAMPLE", "secret", ""};
    settings.region = "us-east-1";
    settings.endpoint_url = "http://mem.test";
    settings.addressing = s3::AddressingStyle::kPath;
    s3::S3ClientOptions client_options;
    client_options.retry.max_attempts = 20;
    ASSERT_OK_AND_ASSIGN(client_, s3::S3Client::Create(settings, http, &env_, client_options));
    if (options.part_size == TransferOptions{}.part_size) options.part_size = kPart;
    options.limits = TestLimits();
    options.download_retry.max_attempts = 20;
    options.download_retry.max_data_loss_retries = 0;
    ASSERT_OK_AND_ASSIGN(engine_, TransferEngine::Create(client_.get(), &env_, options));
  }

  std::string Stored(const std::string& key) {
    std::optional<MemS3::Object> o = mem_.GetObjectDirect("b", key);
    return o ? o->data : "<missing>";
  }

  MemS3 mem_{kPart};
  uint64_t seed_ = 41;
  std::unique_ptr<http::FaultInjectingHttpClient> fault_;
  cairn::testing::FakeEnv env_;
  std::unique_ptr<s3::S3Client> client_;
  std::unique_ptr<TransferEngine> engine_;
};

const std::vector<size_t> kSizes = {0, 1, kPart - 1, kPart, kPart + 1, 3 * kPart + 12345};

TEST_F(TransferTest, UploadsEverySizeUnderEveryPolicy) {
  for (WritePolicy policy : {WritePolicy::kStream, WritePolicy::kSingle, WritePolicy::kSpool}) {
    for (MemorySource::Mode mode : {MemorySource::Mode::kSeekable, MemorySource::Mode::kPipe}) {
      TransferOptions options;
      options.policy = policy;
      options.concurrency = 3;
      Init(options);
      for (size_t size : kSizes) {
        SCOPED_TRACE(std::string(WritePolicyName(policy)) +
                     " pipe=" + std::to_string(mode == MemorySource::Mode::kPipe) +
                     " size=" + std::to_string(size));
        std::string data = RandomBytes(size, size + 7);
        MemorySource source(data, mode);
        ASSERT_OK_AND_ASSIGN(UploadResult r, engine_->Upload(source, "b", "k"));
        EXPECT_TRUE(SameBytes(Stored("k"), data));
        EXPECT_EQ(r.bytes, size);
        EXPECT_EQ(r.etag, mem_.GetObjectDirect("b", "k")->etag);
        if (size < kPart || (size == kPart && mode == MemorySource::Mode::kSeekable)) {
          EXPECT_EQ(r.parts, 0);
          EXPECT_EQ(r.verified, "md5");
        } else {
          // A stream of exactly one part is known to end only after the part is read.
          EXPECT_EQ(r.parts, static_cast<int>((size + kPart - 1) / kPart));
          EXPECT_EQ(r.verified, "multipart-etag");
          EXPECT_EQ(mem_.GetObjectDirect("b", "k")->metadata[kPartSizeMetadata],
                    std::to_string(kPart));
        }
        EXPECT_EQ(mem_.uploads_in_progress(), 0u);
      }
    }
  }
}

TEST_F(TransferTest, DownloadsEverySizeToFilesAndStreams) {
  Init();
  for (size_t size : kSizes) {
    std::string data = RandomBytes(size, size + 3);
    MemorySource source(data);
    ASSERT_OK(engine_->Upload(source, "b", "k").status());
    for (MemorySink::Mode mode : {MemorySink::Mode::kRandomAccess, MemorySink::Mode::kSequential}) {
      SCOPED_TRACE("size=" + std::to_string(size) +
                   " sequential=" + std::to_string(mode == MemorySink::Mode::kSequential));
      MemorySink sink(mode);
      ASSERT_OK_AND_ASSIGN(DownloadResult r, engine_->Download("b", "k", sink));
      EXPECT_TRUE(SameBytes(sink.data(), data));
      EXPECT_TRUE(sink.committed());
      if (size <= kPart) {
        EXPECT_EQ(r.verified, "md5");
      } else {
        EXPECT_EQ(r.verified, "part-md5s");
        EXPECT_EQ(r.part_size_source, "metadata");
        EXPECT_EQ(r.part_size, kPart);
      }
    }
  }
}

TEST_F(TransferTest, UnknownSizeStreamsGrowTheirPartsAndDownloadsFollow) {
  TransferOptions options;
  Init(options);
  // Few parts allowed: the part size must double for a stream to fit.
  MultipartLimits limits = TestLimits();
  limits.max_parts = 8;
  limits.max_object_size = 32 * kMiB;
  options.limits = limits;
  options.part_size = kPart;
  ASSERT_OK_AND_ASSIGN(auto engine, TransferEngine::Create(client_.get(), &env_, options));
  std::string data = RandomBytes(9 * kMiB + 5, 9);
  MemorySource source(data, MemorySource::Mode::kPipe);
  ASSERT_OK_AND_ASSIGN(UploadResult up, engine->Upload(source, "b", "grow"));
  EXPECT_TRUE(SameBytes(Stored("grow"), data));
  EXPECT_EQ(up.parts, 4);  // 1 + 2 + 4 + 2 MiB: the size doubles every part
  MemS3::Object stored = *mem_.GetObjectDirect("b", "grow");
  EXPECT_TRUE(stored.metadata.count(kPartsPerDoublingMetadata)) << "the schedule doubles";
  MemorySink sink;
  ASSERT_OK_AND_ASSIGN(DownloadResult down, engine->Download("b", "grow", sink));
  EXPECT_TRUE(SameBytes(sink.data(), data));
  EXPECT_EQ(down.verified, "part-md5s");
  EXPECT_EQ(down.part_size_source, "metadata");
}

// An object as another tool writes it: parts of `part_size`, no Cairn metadata.
MemS3::Object ForeignMultipart(const std::string& data, uint64_t part_size) {
  std::string md5s;
  int n = 0;
  for (uint64_t at = 0; at < data.size(); at += part_size, ++n) {
    Md5Digest d = Md5Of(std::string_view(data).substr(at, part_size));
    md5s.append(reinterpret_cast<const char*>(d.data()), d.size());
  }
  MemS3::Object o;
  o.data = data;
  o.etag = Md5Hex(md5s) + "-" + std::to_string(n);
  return o;
}

// Its part sizes, for a store that answers ?partNumber=.
std::vector<uint64_t> ForeignPartSizes(uint64_t size, uint64_t part_size) {
  std::vector<uint64_t> sizes;
  for (uint64_t at = 0; at < size; at += part_size) sizes.push_back(std::min(part_size, size - at));
  return sizes;
}

TEST_F(TransferTest, GuessesThePartSizeOfForeignMultipartObjects) {
  Init();
  // 5 MiB parts (rclone's default): the first usual size that gives 3 parts.
  std::string data = RandomBytes(12 * kMiB, 1);
  mem_.PutObjectDirect("b", "five", ForeignMultipart(data, 5 * kMiB));
  MemorySink sink;
  ASSERT_OK_AND_ASSIGN(DownloadResult r, engine_->Download("b", "five", sink));
  EXPECT_TRUE(SameBytes(sink.data(), data));
  EXPECT_EQ(r.verified, "part-md5s");
  EXPECT_EQ(r.part_size_source, "guessed");
  EXPECT_EQ(r.part_size, 5 * kMiB);
  // 10 MiB parts of 24 MiB: 8 MiB also gives 3 parts and is tried first; the file is re-hashed.
  data = RandomBytes(24 * kMiB, 2);
  mem_.PutObjectDirect("b", "ten", ForeignMultipart(data, 10 * kMiB));
  MemorySink sink2;
  ASSERT_OK_AND_ASSIGN(r, engine_->Download("b", "ten", sink2));
  EXPECT_EQ(r.verified, "part-md5s");
  EXPECT_EQ(r.part_size, 10 * kMiB);
  // Parts of 2.5 MiB + 1: no usual size; the download succeeds unverified and says so.
  data = RandomBytes(7 * kMiB, 3);
  mem_.PutObjectDirect("b", "odd", ForeignMultipart(data, 5 * kMiB / 2 + 1));
  MemorySink sink3;
  ASSERT_OK_AND_ASSIGN(r, engine_->Download("b", "odd", sink3));
  EXPECT_TRUE(SameBytes(sink3.data(), data));
  EXPECT_EQ(r.verified, "");
  EXPECT_THAT(r.unverified_reason, HasSubstr("part size"));
}

TEST_F(TransferTest, AsksForTheFirstPartWhereTheStoreHonoursPartNumber) {
  Init();
  mem_.set_honour_part_number(true);
  // 10 MiB parts of 24 MiB: the store names the first part, so no 8 MiB guess is hashed first.
  std::string data = RandomBytes(24 * kMiB, 2);
  mem_.PutObjectDirect("b", "ten", ForeignMultipart(data, 10 * kMiB),
                       ForeignPartSizes(data.size(), 10 * kMiB));
  MemorySink sink;
  ASSERT_OK_AND_ASSIGN(DownloadResult r, engine_->Download("b", "ten", sink));
  EXPECT_TRUE(SameBytes(sink.data(), data));
  EXPECT_EQ(r.verified, "part-md5s");
  EXPECT_EQ(r.part_size_source, "part-number");
  EXPECT_EQ(r.part_size, 10 * kMiB);
  EXPECT_EQ(mem_.requests("head"), 2);
  // Parts of 2.5 MiB + 1, a size no tool uses: checked all the same.
  data = RandomBytes(7 * kMiB, 3);
  mem_.PutObjectDirect("b", "odd", ForeignMultipart(data, 5 * kMiB / 2 + 1),
                       ForeignPartSizes(data.size(), 5 * kMiB / 2 + 1));
  MemorySink sink2;
  ASSERT_OK_AND_ASSIGN(r, engine_->Download("b", "odd", sink2));
  EXPECT_TRUE(SameBytes(sink2.data(), data));
  EXPECT_EQ(r.verified, "part-md5s");
  EXPECT_EQ(r.part_size, 5 * kMiB / 2 + 1);
  // A corrupt part is still an error to report, not hidden by the store's answer: the bytes
  // arrive altered, no candidate matches, and the download says it could not verify.
  MemS3::Object bad = ForeignMultipart(data, 5 * kMiB / 2 + 1);
  bad.data[5 * kMiB] ^= 1;
  mem_.PutObjectDirect("b", "bad", bad, ForeignPartSizes(data.size(), 5 * kMiB / 2 + 1));
  MemorySink sink3;
  ASSERT_OK_AND_ASSIGN(r, engine_->Download("b", "bad", sink3));
  EXPECT_EQ(r.verified, "");
  EXPECT_THAT(r.unverified_reason, HasSubstr("ETag"));
}

TEST_F(TransferTest, AsksOnceWhenTheStoreIgnoresPartNumber) {
  Init();  // MemS3 ignores partNumber by default, as Ceph RGW 16 does
  for (int i = 0; i < 3; ++i) {
    std::string data = RandomBytes(12 * kMiB, 10 + i);
    std::string key = "k" + std::to_string(i);
    mem_.PutObjectDirect("b", key, ForeignMultipart(data, 5 * kMiB),
                         ForeignPartSizes(data.size(), 5 * kMiB));
    MemorySink sink;
    ASSERT_OK_AND_ASSIGN(DownloadResult r, engine_->Download("b", key, sink));
    EXPECT_EQ(r.verified, "part-md5s");
    EXPECT_EQ(r.part_size_source, "guessed");
  }
  // One HEAD per download, and one HEAD ?partNumber=1 for the first only.
  EXPECT_EQ(mem_.requests("head"), 4);
}

TEST_F(TransferTest, CorruptObjectsAreDataLossAndNotCommitted) {
  Init();
  std::string data = RandomBytes(100, 1);
  MemS3::Object plain{data, Md5Hex("other bytes"), "", {}};
  mem_.PutObjectDirect("b", "plain", plain);
  MemorySink sink;
  EXPECT_THAT(engine_->Download("b", "plain", sink),
              StatusIs(StatusCode::kDataLoss, HasSubstr("s3://b/plain")));
  EXPECT_TRUE(sink.abandoned());
  EXPECT_FALSE(sink.committed());

  // A multipart object whose recorded part size is right but whose bytes changed.
  std::string big = RandomBytes(3 * kMiB, 2);
  MemS3::Object multi = ForeignMultipart(big, kPart);
  multi.metadata[kPartSizeMetadata] = std::to_string(kPart);
  multi.data[kPart + 5] ^= 1;
  mem_.PutObjectDirect("b", "multi", multi);
  for (auto mode : {MemorySink::Mode::kRandomAccess, MemorySink::Mode::kSequential}) {
    MemorySink out(mode);
    EXPECT_THAT(engine_->Download("b", "multi", out), StatusIs(StatusCode::kDataLoss));
    EXPECT_TRUE(out.abandoned());
  }
}

TEST_F(TransferTest, AnObjectReplacedMidDownloadIsFailedPrecondition) {
  Init();
  std::string data = RandomBytes(4 * kMiB, 5);
  MemorySource source(data);
  ASSERT_OK(engine_->Upload(source, "b", "k").status());
  std::atomic<int> gets{0};
  mem_.set_interceptor([&](const http::HttpRequest& r) -> std::optional<int> {
    if (r.method == "GET" && gets.fetch_add(1) == 1) {
      mem_.PutObjectDirect("b", "k", MemS3::Object{"new", Md5Hex("new"), "", {}});
    }
    return std::nullopt;
  });
  MemorySink sink;
  EXPECT_THAT(engine_->Download("b", "k", sink),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("changed")));
  EXPECT_TRUE(sink.abandoned());
}

TEST_F(TransferTest, APermanentPartFailureAbortsTheUpload) {
  for (WritePolicy policy : {WritePolicy::kStream, WritePolicy::kSingle, WritePolicy::kSpool}) {
    TransferOptions options;
    options.policy = policy;
    Init(options);
    mem_.set_interceptor([](const http::HttpRequest& r) -> std::optional<int> {
      if (r.url.find("partNumber=3&") != std::string::npos) return 403;
      return std::nullopt;
    });
    std::string data = RandomBytes(6 * kMiB, 1);
    MemorySource source(data, MemorySource::Mode::kPipe);
    Result<UploadResult> r = engine_->Upload(source, "b", "k");
    EXPECT_THAT(r, StatusIs(StatusCode::kPermissionDenied, HasSubstr("part 3")));
    EXPECT_THAT(r.status().message(), HasSubstr("aborted (none left behind)"));
    EXPECT_EQ(mem_.uploads_in_progress(), 0u);
    EXPECT_FALSE(mem_.GetObjectDirect("b", "k").has_value());
  }
}

// A CreateMultipartUpload that the store carried out but whose reply was lost leaves an upload
// nobody can name; the client finds it and aborts it, whether a retry then succeeds or not.
TEST_F(TransferTest, AnUploadStartedByALostCreateReplyIsAborted) {
  for (int lost : {1, 1000}) {
    SCOPED_TRACE("lost create replies: " + std::to_string(lost));
    Init();
    int creates = 0;
    http::FaultInjectingHttpClient lossy(
        &mem_, http::FaultInjectionOptions{
                   .seed = 7,
                   .rates = {.reset_mid_body = 1.0},
                   .eligible = [&creates, lost](const http::HttpRequest& r) {
                     return r.method == "POST" && r.url.ends_with("?uploads=") && creates++ < lost;
                   }});
    s3::S3Settings settings = client_->settings();
    s3::S3ClientOptions client_options;
    client_options.retry.max_attempts = 3;
    ASSERT_OK_AND_ASSIGN(auto client,
                         s3::S3Client::Create(settings, &lossy, &env_, client_options));
    TransferOptions options;
    options.part_size = kPart;
    options.limits = TestLimits();
    ASSERT_OK_AND_ASSIGN(auto engine, TransferEngine::Create(client.get(), &env_, options));
    std::string data = RandomBytes(3 * kPart, 5);
    MemorySource source(data, MemorySource::Mode::kSeekable);
    const std::string key = "k" + std::to_string(lost);
    const int creates_before = mem_.requests("create");
    const int lists_before = mem_.requests("list-uploads");
    Result<UploadResult> r = engine->Upload(source, "b", key);
    if (lost == 1) {
      ASSERT_OK(r.status());
      EXPECT_TRUE(SameBytes(Stored(key), data));
      EXPECT_EQ(mem_.requests("create") - creates_before, 2);
    } else {
      EXPECT_THAT(r, StatusIs(StatusCode::kUnavailable));
      EXPECT_FALSE(mem_.GetObjectDirect("b", key).has_value());
    }
    EXPECT_GT(mem_.requests("list-uploads"), lists_before);
    EXPECT_EQ(mem_.uploads_in_progress(), 0u);
  }
}

// Fails reads past `fail_at`.
class FailingSource final : public ByteSource {
 public:
  FailingSource(std::string_view data, uint64_t fail_at) : inner_(data), fail_at_(fail_at) {}
  std::optional<uint64_t> size() const override { return inner_.size(); }
  bool seekable() const override { return true; }
  Result<size_t> ReadAt(uint64_t offset, std::span<char> out) override {
    if (offset + out.size() > fail_at_) return ErrnoError("read disk", EIO);
    return inner_.ReadAt(offset, out);
  }
  Result<size_t> Read(std::span<char>) override { return UnimplementedError("seekable only"); }
  std::string name() const override { return "failing"; }

 private:
  MemorySource inner_;
  uint64_t fail_at_;
};

TEST_F(TransferTest, ASourceReadErrorAbortsTheUpload) {
  Init();
  std::string data = RandomBytes(5 * kMiB, 1);
  FailingSource source(data, 3 * kMiB + 10);
  Result<UploadResult> r = engine_->Upload(source, "b", "k");
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("read disk"));
  EXPECT_THAT(r.status().message(), HasSubstr("aborted"));
  EXPECT_EQ(mem_.uploads_in_progress(), 0u);
}

TEST_F(TransferTest, CancellationAbortsTheUpload) {
  std::atomic<bool> cancel{false};
  TransferOptions options;
  options.cancel = &cancel;
  options.concurrency = 1;
  Init(options);
  std::string data = RandomBytes(8 * kMiB, 1);
  MemorySource source(data);
  Result<UploadResult> r = engine_->Upload(source, "b", "k", {}, [&](uint64_t done, uint64_t) {
    if (done >= 2 * kPart) cancel = true;
  });
  EXPECT_THAT(r, StatusIs(StatusCode::kCancelled));
  EXPECT_EQ(mem_.uploads_in_progress(), 0u);
  EXPECT_EQ(mem_.requests("abort"), 1);
}

TEST_F(TransferTest, AWrongFinalEtagIsDataLossAndTheObjectIsRemoved) {
  Init();
  mem_.set_complete_etag_override("0123456789abcdef0123456789abcdef-3");
  std::string data = RandomBytes(3 * kMiB, 1);
  MemorySource source(data);
  EXPECT_THAT(engine_->Upload(source, "b", "k"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("ETag")));
  EXPECT_FALSE(mem_.GetObjectDirect("b", "k").has_value());
}

TEST_F(TransferTest, CopiesServerSideWholeAndInParts) {
  TransferOptions options;
  options.max_single_copy_size = 2 * kMiB;
  options.copy_part_size = kPart;
  Init(options);
  std::string small = RandomBytes(kMiB, 1);
  std::string big = RandomBytes(5 * kMiB + 3, 2);
  MemorySource s1(small);
  MemorySource s2(big);
  ASSERT_OK(engine_->Upload(s1, "b", "small").status());
  ASSERT_OK(engine_->Upload(s2, "b", "big").status());
  ASSERT_OK_AND_ASSIGN(CopyResult c1, engine_->Copy("b", "small", "b2", "small-copy"));
  EXPECT_EQ(c1.parts, 0);
  EXPECT_EQ(c1.verified, "etag");
  EXPECT_TRUE(SameBytes(mem_.GetObjectDirect("b2", "small-copy")->data, small));
  ASSERT_OK_AND_ASSIGN(CopyResult c2, engine_->Copy("b", "big", "b2", "big-copy"));
  EXPECT_EQ(c2.parts, 6);
  EXPECT_EQ(c2.verified, "multipart-etag");
  EXPECT_TRUE(SameBytes(mem_.GetObjectDirect("b2", "big-copy")->data, big));
  EXPECT_EQ(mem_.requests("part-copy"), 6);
  MemorySink sink;
  ASSERT_OK_AND_ASSIGN(DownloadResult d, engine_->Download("b2", "big-copy", sink));
  EXPECT_EQ(d.verified, "part-md5s");
  EXPECT_EQ(d.part_size_source, "metadata");
}

TEST_F(TransferTest, BuffersStayWithinTheMemoryBudget) {
  TransferOptions options;
  options.memory_bytes = 4 * kPart;
  options.concurrency = 8;
  Init(options);
  std::string data = RandomBytes(20 * kMiB, 1);
  for (auto mode : {MemorySource::Mode::kSeekable, MemorySource::Mode::kPipe}) {
    MemorySource source(data, mode);
    ASSERT_OK(engine_->Upload(source, "b", "k").status());
  }
  MemorySink sink(MemorySink::Mode::kSequential);
  ASSERT_OK(engine_->Download("b", "k", sink).status());
  EXPECT_TRUE(SameBytes(sink.data(), data));
  EXPECT_LE(engine_->budget().peak_in_use(), 4 * kPart);
  EXPECT_EQ(engine_->budget().in_use(), 0u);
}

// The fault suite of issue 4: 10% SlowDown, resets before, during the upload and mid-reply, and
// truncated replies. Every transfer completes byte-identical.
TEST_F(TransferTest, EveryTransferSurvivesInjectedFaults) {
  http::FaultRates faults{.slow_down = 0.10,
                          .reset_before = 0.05,
                          .reset_mid_upload = 0.05,
                          .reset_mid_body = 0.05,
                          .truncate = 0.05};
  http::FaultCounts total;
  for (WritePolicy policy : {WritePolicy::kStream, WritePolicy::kSingle, WritePolicy::kSpool}) {
    TransferOptions options;
    options.policy = policy;
    options.max_single_copy_size = 2 * kMiB;
    Init(options, faults);
    for (size_t size : {size_t{0}, size_t{1}, kPart + 1, 5 * kPart + 7}) {
      SCOPED_TRACE(std::string(WritePolicyName(policy)) + " size=" + std::to_string(size));
      std::string data = RandomBytes(size, size);
      for (auto mode : {MemorySource::Mode::kSeekable, MemorySource::Mode::kPipe}) {
        MemorySource source(data, mode);
        ASSERT_OK(engine_->Upload(source, "b", "k").status());
        EXPECT_TRUE(SameBytes(Stored("k"), data));
      }
      for (auto mode : {MemorySink::Mode::kRandomAccess, MemorySink::Mode::kSequential}) {
        MemorySink sink(mode);
        ASSERT_OK_AND_ASSIGN(DownloadResult d, engine_->Download("b", "k", sink));
        EXPECT_TRUE(SameBytes(sink.data(), data));
        EXPECT_NE(d.verified, "");
      }
      ASSERT_OK(engine_->Copy("b", "k", "b", "copy").status());
      EXPECT_TRUE(SameBytes(Stored("copy"), data));
      EXPECT_EQ(mem_.uploads_in_progress(), 0u);
    }
    http::FaultCounts c = fault_->counts();
    total.slow_downs += c.slow_downs;
    total.resets_before += c.resets_before;
    total.resets_mid_upload += c.resets_mid_upload;
    total.resets_mid_body += c.resets_mid_body;
    total.truncations += c.truncations;
  }
  // Every kind of fault was met (and survived).
  EXPECT_GT(total.slow_downs, 0u);
  EXPECT_GT(total.resets_before, 0u);
  EXPECT_GT(total.resets_mid_upload, 0u);
  EXPECT_GT(total.resets_mid_body, 0u);
  EXPECT_GT(total.truncations, 0u);
}

TEST(MemoryBudgetTest, BlocksUntilMemoryIsReturned) {
  MemoryBudget budget(100);
  ASSERT_OK_AND_ASSIGN(PartBuffer a, budget.Acquire(60));
  EXPECT_FALSE(budget.TryAcquire(50).has_value());
  EXPECT_THAT(budget.Acquire(101), StatusIs(StatusCode::kResourceExhausted));
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    Result<PartBuffer> b = budget.Acquire(50);
    EXPECT_OK(b.status());
    got = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_FALSE(got.load());
  a = PartBuffer();  // returns 60 bytes
  waiter.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(budget.in_use(), 0u);
  EXPECT_EQ(budget.peak_in_use(), 60u);
  std::atomic<bool> cancel{true};
  ASSERT_OK_AND_ASSIGN(PartBuffer c, budget.Acquire(100));
  EXPECT_THAT(budget.Acquire(1, &cancel), StatusIs(StatusCode::kCancelled));
}

TEST(PartLayoutTest, GuessesUsualPartSizesThatFit) {
  // 100 MiB in 13 parts: 8 MiB (aws CLI) fits; 5 MiB does not.
  std::vector<uint64_t> g = GuessPartSizes(100 * kMiB, 13);
  ASSERT_FALSE(g.empty());
  EXPECT_EQ(g.front(), 8 * kMiB);
  for (uint64_t p : g) EXPECT_EQ((100 * kMiB + p - 1) / p, 13u) << p;
  // A 100 GiB object the aws CLI uploaded: 8 MiB doubled until 10,000 parts hold it = 16 MiB.
  g = GuessPartSizes(100 * kGiB, 6400);
  EXPECT_NE(std::find(g.begin(), g.end(), 16 * kMiB), g.end());
  EXPECT_EQ(GuessPartSizes(5, 1), std::vector<uint64_t>{5});
}

}  // namespace
}  // namespace cairn::objstore::transfer
