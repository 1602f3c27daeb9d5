// Distributed multipart uploads (objstore/mpu) against a real S3 server, normally Ceph RGW
// started by scripts/integration-test.sh: every partition layout of issue 6 (scaled down to the
// store's real 5 MiB minimum part size), presigned workers with no credentials, a failed worker
// and a missing receipt (aborted, nothing left), and a worker run twice.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cairn/http/curl_http_client.h"
#include "cairn/io/env.h"
#include "cairn/objstore/mpu/coordinator.h"
#include "cairn/objstore/mpu/worker.h"
#include "cairn/objstore/s3/client.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::objstore::mpu {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;

constexpr uint64_t kMin = 5 * kMiB;  // RGW enforces S3's minimum (EntityTooSmall at Complete)

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return out;
}

PartitionReader ReaderOf(const std::string& data) {
  auto offset = std::make_shared<size_t>(0);
  return [&data, offset](std::span<char> out) -> Result<size_t> {
    size_t n = std::min(out.size(), data.size() - *offset);
    std::memcpy(out.data(), data.data() + *offset, n);
    *offset += n;
    return n;
  };
}

ReceiptPoller Fixed(std::vector<Receipt> receipts) {
  return [receipts]() -> Result<ReceiptBatch> { return ReceiptBatch{receipts, {}}; };
}

class MpuIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    s3::S3SettingsInput input;
    for (const char* name : {"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
                             "AWS_DEFAULT_REGION", "AWS_REGION"}) {
      if (!Env(name).empty()) input.environment[name] = Env(name);
    }
    ASSERT_FALSE(Env("AWS_ENDPOINT_URL").empty())
        << "no S3 server: run through scripts/integration-test.sh (or eval "
           "\"$(scripts/object-store env)\")";
    ASSERT_OK_AND_ASSIGN(s3::S3Settings settings, s3::ResolveS3Settings(input));
    ASSERT_OK_AND_ASSIGN(http_, http::CurlHttpClient::Create({}));
    ASSERT_OK_AND_ASSIGN(client_, s3::S3Client::Create(settings, http_.get(), env_));
    bucket_ = "cairn-mpu-it-" + std::to_string(env_->NowUnixMicros() % 1000000000);
    ASSERT_OK(client_->CreateBucket(bucket_));
  }

  void TearDown() override {
    if (client_ == nullptr) return;
    if (auto uploads = client_->ListMultipartUploads(bucket_); uploads.ok()) {
      for (const auto& u : uploads->uploads) {
        client_->AbortMultipartUpload(bucket_, u.key, u.upload_id).IgnoreError();
      }
    }
    if (auto page = client_->ListObjectsV2(bucket_, {}); page.ok()) {
      for (const auto& o : page->contents) client_->DeleteObject(bucket_, o.key).IgnoreError();
    }
    client_->DeleteBucket(bucket_).IgnoreError();
  }

  Result<Session> BeginUpload(const std::string& key, int workers, bool presign = false,
                              int64_t deadline = 600) {
    return Begin(client_.get(), env_,
                 {.bucket = bucket_,
                  .key = key,
                  .workers = workers,
                  .deadline_seconds = deadline,
                  .presign = presign,
                  .part_size = kMin,
                  .min_part_size = kMin,
                  .max_parts = kMaxParts,
                  .content_type = ""});
  }

  Result<Receipt> Run(const Session& session, int w, const std::string& data,
                      std::string run_id = "") {
    ClientPartTarget target(client_.get(), &session, w);
    return UploadPartition(session, w, ReaderOf(data), data.size(), &target, env_,
                           {.concurrency = 2, .run_id = std::move(run_id)});
  }

  std::string Read(const std::string& key) {
    std::string data;
    Status s = client_
                   ->GetObject(bucket_, key, {},
                               [&](std::string_view piece) {
                                 data.append(piece);
                                 return Status();
                               })
                   .status();
    EXPECT_OK(s);
    return data;
  }

  void ExpectNothingLeft(const Session& session) {
    ASSERT_OK_AND_ASSIGN(s3::ListMultipartUploadsPage uploads,
                         client_->ListMultipartUploads(bucket_, session.key));
    for (const auto& u : uploads.uploads) EXPECT_NE(u.upload_id, session.upload_id);
    s3::ListOptions list;
    list.prefix = session.temp_prefix;
    ASSERT_OK_AND_ASSIGN(s3::ListObjectsV2Page temps, client_->ListObjectsV2(bucket_, list));
    EXPECT_TRUE(temps.contents.empty());
    // RGW answers ListParts of an aborted or completed upload with NoSuchKey, AWS NoSuchUpload.
    EXPECT_THAT(client_->ListParts(bucket_, session.key, session.upload_id).status(),
                StatusIs(StatusCode::kNotFound));
  }

  io::Env* env_ = io::Env::Default();
  std::unique_ptr<http::CurlHttpClient> http_;
  std::unique_ptr<s3::S3Client> client_;
  std::string bucket_;
};

TEST_F(MpuIntegrationTest, EveryLayoutIsByteIdentical) {
  const uint64_t small = 1000, medium = 7 * kMiB + 3, large = 11 * kMiB + 5;
  int layout = 0;
  for (const std::vector<uint64_t>& sizes : std::vector<std::vector<uint64_t>>{
           {large, large, large},           // all large, with tails
           {0, large, 0, large, 0},         // empty first, middle, last
           {small, large, large},           // small first
           {large, small, large},           // small in the middle
           {large, large, small},           // small last
           {small, small, small, small},    // all small
           {0, 0},                          // all empty: the empty object
           {medium, small, medium, large},  // medium pieces, copied or joined
           {kMin, 2 * kMin, kMin - 1, 1},   // the boundaries
       }) {
    SCOPED_TRACE(::testing::PrintToString(sizes));
    const std::string key = "layout-" + std::to_string(layout++);
    std::vector<std::string> partitions;
    std::string whole;
    for (size_t i = 0; i < sizes.size(); ++i) {
      partitions.push_back(RandomBytes(sizes[i], 100 * layout + i));
      whole += partitions.back();
    }
    ASSERT_OK_AND_ASSIGN(Session session, BeginUpload(key, static_cast<int>(sizes.size())));
    std::vector<Receipt> receipts;
    for (size_t w = 0; w < sizes.size(); ++w) {
      ASSERT_OK_AND_ASSIGN(Receipt r, Run(session, static_cast<int>(w), partitions[w]));
      receipts.push_back(std::move(r));
    }
    Coordinator coordinator(client_.get(), env_, session);
    ASSERT_OK_AND_ASSIGN(CompleteResult done, coordinator.Complete(Fixed(receipts), {}));
    EXPECT_EQ(done.size, whole.size());
    EXPECT_LE(done.joined_bytes, kMin * sizes.size());
    ASSERT_OK_AND_ASSIGN(s3::ObjectInfo info, client_->HeadObject(bucket_, key));
    EXPECT_EQ(info.etag, done.etag);
    EXPECT_TRUE(Read(key) == whole) << "the object is not the partitions concatenated";
    ExpectNothingLeft(session);
  }
}

TEST_F(MpuIntegrationTest, PresignedWorkersNeedNoCredentials) {
  ASSERT_OK_AND_ASSIGN(Session begun, BeginUpload("presigned", 3, /*presign=*/true));
  const std::string json = SessionToJson(begun);
  EXPECT_THAT(json, ::testing::Not(HasSubstr(Env("AWS_SECRET_ACCESS_KEY"))));
  ASSERT_OK_AND_ASSIGN(Session session, ParseSession(json));
  std::vector<std::string> partitions{RandomBytes(12 * kMiB, 1), RandomBytes(77, 2),
                                      RandomBytes(6 * kMiB, 3)};
  std::vector<Receipt> receipts;
  ASSERT_OK_AND_ASSIGN(auto bare_http, http::CurlHttpClient::Create({}));  // no S3 client at all
  for (int w = 0; w < 3; ++w) {
    PresignedPartTarget target(bare_http.get(), env_, &session, w);
    ASSERT_OK_AND_ASSIGN(Receipt r, UploadPartition(session, w, ReaderOf(partitions[w]),
                                                    std::nullopt, &target, env_));
    receipts.push_back(std::move(r));
  }
  Coordinator coordinator(client_.get(), env_, session);
  ASSERT_OK(coordinator.Complete(Fixed(receipts), {}).status());
  EXPECT_TRUE(Read("presigned") == partitions[0] + partitions[1] + partitions[2]);
  ExpectNothingLeft(session);
}

TEST_F(MpuIntegrationTest, AFailedWorkerAbortsWithNothingLeft) {
  ASSERT_OK_AND_ASSIGN(Session session, BeginUpload("failed", 2));
  const std::string data = RandomBytes(12 * kMiB, 4);
  ASSERT_OK_AND_ASSIGN(Receipt ok, Run(session, 0, data));
  // Worker 1 dies after its head and one part: its input fails half-way.
  size_t offset = 0;
  PartitionReader failing = [&](std::span<char> out) -> Result<size_t> {
    if (offset >= 11 * kMiB) return UnavailableError("read partition: connection reset");
    size_t n = std::min<size_t>(out.size(), 11 * kMiB - offset);
    std::memcpy(out.data(), data.data() + offset, n);
    offset += n;
    return n;
  };
  ClientPartTarget target(client_.get(), &session, 1);
  Result<Receipt> died = UploadPartition(session, 1, failing, std::nullopt, &target, env_);
  ASSERT_THAT(died.status(), StatusIs(StatusCode::kUnavailable, HasSubstr("worker 1")));
  Receipt failure;
  failure.upload_id = session.upload_id;
  failure.worker = 1;
  failure.error = std::string(died.status().message());
  Coordinator coordinator(client_.get(), env_, session);
  EXPECT_THAT(coordinator.Complete(Fixed({ok, failure}), {}).status(),
              StatusIs(StatusCode::kAborted, HasSubstr("worker 1 failed")));
  ExpectNothingLeft(session);
  EXPECT_THAT(client_->HeadObject(bucket_, "failed").status(), StatusIs(StatusCode::kNotFound));
}

TEST_F(MpuIntegrationTest, AMissingReceiptAbortsAtTheDeadline) {
  ASSERT_OK_AND_ASSIGN(Session session, BeginUpload("killed", 2, false, /*deadline=*/3));
  ASSERT_OK_AND_ASSIGN(Receipt ok, Run(session, 0, RandomBytes(6 * kMiB, 5)));
  Coordinator coordinator(client_.get(), env_, session);
  EXPECT_THAT(
      coordinator.Complete(Fixed({ok}), {.wait = true, .poll_interval_micros = 200'000}).status(),
      StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("no receipt from worker 1")));
  ExpectNothingLeft(session);
}

TEST_F(MpuIntegrationTest, AWorkerRunTwiceIsResolved) {
  ASSERT_OK_AND_ASSIGN(Session session, BeginUpload("twice", 2));
  const std::string a = RandomBytes(11 * kMiB, 6), b = RandomBytes(3000, 7);
  ASSERT_OK_AND_ASSIGN(Receipt first, Run(session, 0, a, "1"));
  ASSERT_OK_AND_ASSIGN(Receipt again, Run(session, 0, a, "2"));
  ASSERT_OK_AND_ASSIGN(Receipt other, Run(session, 1, b));
  Coordinator coordinator(client_.get(), env_, session);
  ASSERT_OK_AND_ASSIGN(CompleteResult done, coordinator.Complete(Fixed({again, other, first}), {}));
  EXPECT_EQ(done.duplicate_receipts, 1);
  EXPECT_TRUE(Read("twice") == a + b);
  ExpectNothingLeft(session);
}

}  // namespace
}  // namespace cairn::objstore::mpu
