// Workers and the coordinator end to end on MemS3 (an in-memory S3 that enforces the minimum part
// size at Complete): every layout comes back byte for byte with the right ETag, presigned workers
// need no credentials, and failures abort with nothing left behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cairn/http/fault_injecting_http_client.h"
#include "cairn/objstore/mpu/coordinator.h"
#include "cairn/objstore/mpu/worker.h"
#include "cairn/objstore/transfer/mem_s3.h"
#include "cairn/testing/fake_env.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::objstore::mpu {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint64_t kMin = 256 << 10;  // a small minimum part size keeps the tests fast
constexpr char kBucket[] = "bucket";
constexpr char kKey[] = "data/out.bin";

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return out;
}

// MemS3 plus DeleteObjects (POST ?delete), which MemS3 does not serve.
class MemStore final : public http::HttpClient {
 public:
  explicit MemStore(transfer::MemS3* mem) : mem_(mem) {}
  Result<http::HttpResponse> Send(const http::HttpRequest& request,
                                  const http::ResponseBody& body) override {
    if (request.method == "POST" && request.url.find("?delete") != std::string::npos) {
      std::string xml(request.body.bytes());
      const std::string base = request.url.substr(0, request.url.find('?'));
      for (size_t at = 0; (at = xml.find("<Key>", at)) != std::string::npos;) {
        size_t end = xml.find("</Key>", at);
        http::HttpRequest del;
        del.method = "DELETE";
        del.url = base + "/" + xml.substr(at + 5, end - at - 5);
        CAIRN_RETURN_IF_ERROR(mem_->Send(del, http::ResponseBody::Collect(1 << 16)).status());
        at = end;
      }
      http::HttpResponse reply;
      reply.status_code = 200;
      reply.body = "<DeleteResult></DeleteResult>";
      return reply;
    }
    return mem_->Send(request, body);
  }

 private:
  transfer::MemS3* mem_;
};

PartitionReader ReaderOf(const std::string& data) {
  auto offset = std::make_shared<size_t>(0);
  return [&data, offset](std::span<char> out) -> Result<size_t> {
    size_t n = std::min(out.size(), data.size() - *offset);
    std::memcpy(out.data(), data.data() + *offset, n);
    *offset += n;
    return n;
  };
}

class MpuTest : public ::testing::Test {
 protected:
  MpuTest() : mem_(kMin), store_(&mem_) {}

  void SetUp() override {
    s3::S3Settings settings;
    settings.credentials = {"AKIDEXAMPLE", "very-secret-key", ""};
    settings.region = "us-east-1";
    settings.endpoint_url = "http://mem.test";
    settings.addressing = s3::AddressingStyle::kPath;
    ASSERT_OK_AND_ASSIGN(client_, s3::S3Client::Create(settings, &store_, &env_));
  }

  Result<Session> BeginUpload(int workers, bool presign = false) {
    return Begin(client_.get(), &env_,
                 {.bucket = kBucket,
                  .key = kKey,
                  .workers = workers,
                  .deadline_seconds = 3600,
                  .presign = presign,
                  .part_size = kMiB,
                  .min_part_size = kMin,
                  .max_parts = kMaxParts,
                  .content_type = ""});
  }

  // Runs every worker on its partition (in order) and returns the receipts.
  Result<std::vector<Receipt>> RunWorkers(const Session& session,
                                          const std::vector<std::string>& partitions) {
    std::vector<Receipt> receipts;
    for (size_t w = 0; w < partitions.size(); ++w) {
      ClientPartTarget target(client_.get(), &session, static_cast<int>(w));
      CAIRN_ASSIGN_OR_RETURN(
          Receipt r,
          UploadPartition(session, static_cast<int>(w), ReaderOf(partitions[w]), std::nullopt,
                          &target, &env_, {.concurrency = 2, .run_id = ""}));
      receipts.push_back(std::move(r));
    }
    return receipts;
  }

  static ReceiptPoller Fixed(std::vector<Receipt> receipts) {
    return [receipts]() -> Result<ReceiptBatch> { return ReceiptBatch{receipts, {}}; };
  }

  void ExpectNothingLeft() {
    EXPECT_EQ(mem_.uploads_in_progress(), 0u);
    s3::ListOptions list;
    list.prefix = std::string(kKey) + ".";
    ASSERT_OK_AND_ASSIGN(s3::ListObjectsV2Page page, client_->ListObjectsV2(kBucket, list));
    EXPECT_TRUE(page.contents.empty()) << page.contents.front().key;
  }

  // Uploads partitions of these sizes and checks the object.
  void RoundTrip(const std::vector<uint64_t>& sizes) {
    SCOPED_TRACE(::testing::PrintToString(sizes));
    std::vector<std::string> partitions;
    std::string whole;
    for (size_t i = 0; i < sizes.size(); ++i) {
      partitions.push_back(RandomBytes(sizes[i], 1000 + i));
      whole += partitions.back();
    }
    ASSERT_OK_AND_ASSIGN(Session session, BeginUpload(static_cast<int>(sizes.size())));
    ASSERT_OK_AND_ASSIGN(std::vector<Receipt> receipts, RunWorkers(session, partitions));
    Coordinator coordinator(client_.get(), &env_, session);
    ASSERT_OK_AND_ASSIGN(CompleteResult done, coordinator.Complete(Fixed(receipts), {}));
    std::optional<transfer::MemS3::Object> object = mem_.GetObjectDirect(kBucket, kKey);
    ASSERT_TRUE(object.has_value());
    EXPECT_TRUE(object->data == whole) << "object differs from the partitions concatenated";
    EXPECT_EQ(object->etag, done.etag);
    EXPECT_EQ(done.size, whole.size());
    EXPECT_LE(done.joined_bytes, kMin * sizes.size());
    ExpectNothingLeft();
  }

  testing::FakeEnv env_;
  transfer::MemS3 mem_;
  MemStore store_;
  std::unique_ptr<s3::S3Client> client_;
};

TEST_F(MpuTest, EveryLayoutRoundTrips) {
  const uint64_t small = 10'000, medium = kMin + 12'345, large = 3 * kMiB + 777;
  for (const std::vector<uint64_t>& sizes : std::vector<std::vector<uint64_t>>{
           {large, large, large},
           {0, large, large},
           {large, 0, large},
           {large, large, 0},
           {0, 0, 0},
           {small, large, large},
           {large, small, large},
           {large, large, small},
           {small, small, small},
           {medium, medium},
           {large, medium, small, large, 0, small},
           {kMin, 2 * kMin - 1, 2 * kMin, 2 * kMin + 1, 1},
           {kMiB + kMin, kMiB + kMin - 1, kMiB + kMin + 1},  // tails around the part size
           {40 * kMiB + 777, large},  // 40 parts: hashed in batches of 16, 16 and 8
           {1},
           {0},
       }) {
    RoundTrip(sizes);
    if (HasFatalFailure()) return;
  }
}

TEST_F(MpuTest, RandomLayoutsRoundTrip) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 12; ++trial) {
    std::vector<uint64_t> sizes(1 + rng() % 6);
    for (uint64_t& n : sizes) {
      switch (rng() % 4) {
        case 0:
          n = rng() % 3 == 0 ? 0 : rng() % kMin;
          break;
        case 1:
          n = kMin + rng() % kMin;
          break;
        default:
          n = 2 * kMin + rng() % (3 * kMiB);
          break;
      }
    }
    RoundTrip(sizes);
    if (HasFatalFailure()) return;
  }
}

TEST_F(MpuTest, PresignedWorkersNeedNoCredentials) {
  ASSERT_OK_AND_ASSIGN(Session session, BeginUpload(3, /*presign=*/true));
  const std::string json = SessionToJson(session);
  EXPECT_THAT(json, Not(HasSubstr("very-secret-key")));
  EXPECT_THAT(json, HasSubstr("X-Amz-Signature"));
  ASSERT_OK_AND_ASSIGN(Session parsed, ParseSession(json));
  std::vector<std::string> partitions{RandomBytes(2 * kMiB, 1), RandomBytes(100, 2),
                                      RandomBytes(kMiB, 3)};
  std::vector<Receipt> receipts;
  for (int w = 0; w < 3; ++w) {
    // Only the session and an HTTP client: no S3Client, no credentials.
    PresignedPartTarget target(&store_, &env_, &parsed, w);
    ASSERT_OK_AND_ASSIGN(Receipt r, UploadPartition(parsed, w, ReaderOf(partitions[w]),
                                                    partitions[w].size(), &target, &env_));
    receipts.push_back(ParseReceipt(ReceiptToJson(r)).value());
  }
  Coordinator coordinator(client_.get(), &env_, parsed);
  ASSERT_OK_AND_ASSIGN(CompleteResult done, coordinator.Complete(Fixed(receipts), {}));
  EXPECT_EQ(mem_.GetObjectDirect(kBucket, kKey)->data,
            partitions[0] + partitions[1] + partitions[2]);
  EXPECT_EQ(done.joined_parts, 1);  // the 100 bytes joined with worker 2's head
  EXPECT_EQ(done.direct_heads, 1);  // worker 0's head went straight to its head slot
  EXPECT_EQ(done.copied_parts, 0);
  ExpectNothingLeft();
}

// A worker with regular parts also uploads its head to its head slot, so complete copies
// nothing; a head slot part complete cannot trust (not the head's bytes, or missing) is
// replaced by a copy, and a session without presigned head-slot URLs (older sessions) copies.
TEST_F(MpuTest, HeadsGoStraightToTheirSlotsUnlessTheStoreDisagrees) {
  const uint64_t large = 3 * kMiB + 777;
  std::vector<std::string> partitions{RandomBytes(large, 11), RandomBytes(large, 12),
                                      RandomBytes(large, 13)};
  const std::string whole = partitions[0] + partitions[1] + partitions[2];
  {
    ASSERT_OK_AND_ASSIGN(Session session, BeginUpload(3));
    ASSERT_OK_AND_ASSIGN(std::vector<Receipt> receipts, RunWorkers(session, partitions));
    for (const Receipt& r : receipts) {
      ASSERT_TRUE(r.head_part.has_value()) << r.worker;
      EXPECT_EQ(r.head_part->part_number, session.plan().Slots(r.worker).head_part);
      EXPECT_EQ(r.head_part->md5, r.head->md5);
    }
    // Worker 1's head slot now holds other bytes (as if another run had put them there).
    const std::string other = RandomBytes(kMin, 99);
    ASSERT_OK(client_
                  ->UploadPart(kBucket, kKey, session.upload_id, receipts[1].head_part->part_number,
                               http::RequestBody::FromBytes(other), Md5Of(other))
                  .status());
    Coordinator coordinator(client_.get(), &env_, session);
    ASSERT_OK_AND_ASSIGN(CompleteResult done, coordinator.Complete(Fixed(receipts), {}));
    EXPECT_EQ(done.direct_heads, 2);
    EXPECT_EQ(done.copied_parts, 1);
    EXPECT_TRUE(mem_.GetObjectDirect(kBucket, kKey)->data == whole);
    ExpectNothingLeft();
  }
  {
    ASSERT_OK_AND_ASSIGN(Session session, BeginUpload(3, /*presign=*/true));
    for (PresignedWorker& w : session.presigned) w.head_part_url.clear();
    ASSERT_OK_AND_ASSIGN(Session parsed, ParseSession(SessionToJson(session)));
    std::vector<Receipt> receipts;
    for (int w = 0; w < 3; ++w) {
      PresignedPartTarget target(&store_, &env_, &parsed, w);
      ASSERT_OK_AND_ASSIGN(Receipt r, UploadPartition(parsed, w, ReaderOf(partitions[w]),
                                                      std::nullopt, &target, &env_));
      EXPECT_FALSE(r.head_part.has_value());
      receipts.push_back(std::move(r));
    }
    Coordinator coordinator(client_.get(), &env_, parsed);
    ASSERT_OK_AND_ASSIGN(CompleteResult done, coordinator.Complete(Fixed(receipts), {}));
    EXPECT_EQ(done.direct_heads, 0);
    EXPECT_EQ(done.copied_parts, 3);
    EXPECT_TRUE(mem_.GetObjectDirect(kBucket, kKey)->data == whole);
    ExpectNothingLeft();
  }
}

TEST_F(MpuTest, TransientFailuresAreRetriedInsideTheWorker) {
  ASSERT_OK_AND_ASSIGN(Session session, BeginUpload(2));
  http::FaultInjectingHttpClient faulty(
      &store_, {.seed = 3, .rates = {.slow_down = 0.3, .reset_before = 0.2}, .eligible = {}});
  s3::S3ClientOptions options;
  options.retry.max_attempts = 30;
  ASSERT_OK_AND_ASSIGN(auto worker_client,
                       s3::S3Client::Create(client_->settings(), &faulty, &env_, options));
  std::vector<std::string> partitions{RandomBytes(3 * kMiB, 5), RandomBytes(kMiB + 3, 6)};
  std::vector<Receipt> receipts;
  for (int w = 0; w < 2; ++w) {
    ClientPartTarget target(worker_client.get(), &session, w);
    ASSERT_OK_AND_ASSIGN(Receipt r, UploadPartition(session, w, ReaderOf(partitions[w]),
                                                    std::nullopt, &target, &env_));
    receipts.push_back(r);
  }
  EXPECT_GT(faulty.counts().slow_downs + faulty.counts().resets_before, 0u);
  Coordinator coordinator(client_.get(), &env_, session);
  ASSERT_OK(coordinator.Complete(Fixed(receipts), {}).status());
  EXPECT_EQ(mem_.GetObjectDirect(kBucket, kKey)->data, partitions[0] + partitions[1]);
}

TEST_F(MpuTest, AFailedWorkerAbortsAndNamesIt) {
  ASSERT_OK_AND_ASSIGN(Session session, BeginUpload(3));
  ASSERT_OK_AND_ASSIGN(std::vector<Receipt> receipts,
                       RunWorkers(session, {RandomBytes(kMiB, 1), RandomBytes(kMiB, 2)}));
  Receipt failed;
  failed.upload_id = session.upload_id;
  failed.worker = 2;
  failed.run = "x";
  failed.error = "read input: No such file or directory";
  receipts.push_back(failed);
  Coordinator coordinator(client_.get(), &env_, session);
  EXPECT_THAT(coordinator.Complete(Fixed(receipts), {}).status(),
              StatusIs(StatusCode::kAborted,
                       AllOf(HasSubstr("worker 2 failed: read input"), HasSubstr("aborted"))));
  ExpectNothingLeft();
  EXPECT_FALSE(mem_.GetObjectDirect(kBucket, kKey).has_value());
}

TEST_F(MpuTest, AReceiptMissingAtTheDeadlineAborts) {
  ASSERT_OK_AND_ASSIGN(Session session, BeginUpload(2));
  ASSERT_OK_AND_ASSIGN(std::vector<Receipt> receipts, RunWorkers(session, {RandomBytes(kMiB, 1)}));
  Coordinator coordinator(client_.get(), &env_, session);
  // Without waiting, before the deadline: an error, and the upload is kept.
  EXPECT_THAT(coordinator.Complete(Fixed(receipts), {.wait = false}).status(),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("worker 1")));
  EXPECT_EQ(mem_.uploads_in_progress(), 1u);
  // Waiting: the fake clock runs to the deadline, then everything is aborted.
  EXPECT_THAT(coordinator.Complete(Fixed(receipts), {.wait = true}).status(),
              StatusIs(StatusCode::kDeadlineExceeded,
                       AllOf(HasSubstr("no receipt from worker 1"), HasSubstr("deadline"))));
  EXPECT_GE(env_.NowUnixSeconds(), session.deadline);
  ExpectNothingLeft();
}

TEST_F(MpuTest, AWorkerRunTwiceResolvesDeterministically) {
  ASSERT_OK_AND_ASSIGN(Session session, BeginUpload(2));
  std::vector<std::string> partitions{RandomBytes(2 * kMiB, 1), RandomBytes(kMiB, 2)};
  ASSERT_OK_AND_ASSIGN(std::vector<Receipt> first, RunWorkers(session, partitions));
  // Worker 1 runs again with the same bytes, then once more with other bytes (a non-deterministic
  // partition): the last run's parts are what the store holds, so its receipt must win.
  ClientPartTarget target(client_.get(), &session, 1);
  ASSERT_OK_AND_ASSIGN(Receipt same,
                       UploadPartition(session, 1, ReaderOf(partitions[1]), std::nullopt, &target,
                                       &env_, {.concurrency = 4, .run_id = "2-same"}));
  const std::string other = RandomBytes(kMiB, 99);
  ASSERT_OK_AND_ASSIGN(Receipt changed,
                       UploadPartition(session, 1, ReaderOf(other), std::nullopt, &target, &env_,
                                       {.concurrency = 4, .run_id = "3-other"}));
  first[1].run = "1-first";
  std::vector<Receipt> all{first[0], first[1], same, changed};
  Coordinator coordinator(client_.get(), &env_, session);
  ASSERT_OK_AND_ASSIGN(CompleteResult done, coordinator.Complete(Fixed(all), {}));
  EXPECT_EQ(done.duplicate_receipts, 2);
  EXPECT_EQ(mem_.GetObjectDirect(kBucket, kKey)->data, partitions[0] + other);
}

TEST_F(MpuTest, AReceiptThatDisagreesWithTheStoreAborts) {
  ASSERT_OK_AND_ASSIGN(Session session, BeginUpload(2));
  ASSERT_OK_AND_ASSIGN(std::vector<Receipt> receipts,
                       RunWorkers(session, {RandomBytes(2 * kMiB, 1), RandomBytes(kMiB, 2)}));
  receipts[0].parts[0].size += 1;
  receipts[0].size += 1;
  Coordinator coordinator(client_.get(), &env_, session);
  EXPECT_THAT(coordinator.Complete(Fixed(receipts), {}).status(),
              StatusIs(StatusCode::kDataLoss, HasSubstr("worker 0")));
  ExpectNothingLeft();
}

TEST_F(MpuTest, WorkersStopAtTheDeadline) {
  ASSERT_OK_AND_ASSIGN(Session session, BeginUpload(1));
  env_.SleepForMicros(int64_t{3601} * 1'000'000);
  ClientPartTarget target(client_.get(), &session, 0);
  const std::string data = RandomBytes(100, 1);
  EXPECT_THAT(UploadPartition(session, 0, ReaderOf(data), std::nullopt, &target, &env_).status(),
              StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("worker 0")));
}

TEST_F(MpuTest, StatusAndAbort) {
  ASSERT_OK_AND_ASSIGN(Session session, BeginUpload(2));
  ASSERT_OK_AND_ASSIGN(std::vector<Receipt> receipts,
                       RunWorkers(session, {RandomBytes(2 * kMiB, 1)}));
  Coordinator coordinator(client_.get(), &env_, session);
  ASSERT_OK_AND_ASSIGN(UploadStatus status, coordinator.Query());
  EXPECT_EQ(status.state, UploadStatus::State::kInProgress);
  EXPECT_EQ(status.worker_parts[0], 2);  // 2 MiB - head = 1.75 MiB: one 1 MiB part + the rest
  EXPECT_EQ(status.worker_bytes[0], 2 * kMiB - kMin);
  EXPECT_TRUE(status.worker_head[0]);
  EXPECT_FALSE(status.worker_head[1]);
  ASSERT_OK_AND_ASSIGN(std::string account, coordinator.Abort());
  EXPECT_THAT(account, HasSubstr("deleted 1 head pieces"));
  ExpectNothingLeft();
  ASSERT_OK_AND_ASSIGN(status, coordinator.Query());
  EXPECT_EQ(status.state, UploadStatus::State::kGone);
}

TEST(WorkerScheduleTest, PartitionsAboveFiveGiBFitTheirSlots) {
  Session s;
  s.workers = 1000;  // 10 slots each: a head slot and nine regular parts
  s.part_size = 8 * kMiB;
  s.min_part_size = 5 * kMiB;
  const uint64_t max_part = 5 * kGiB - 5 * kMiB;  // room for a short tail to join the last part
  ASSERT_OK_AND_ASSIGN(PartSchedule big, WorkerPartSchedule(s, 7, 40 * kGiB));
  EXPECT_LE(big.PartCount(40 * kGiB - s.min_part_size), 9);
  EXPECT_LE(big.first_part_size(), max_part);
  EXPECT_THAT(WorkerPartSchedule(s, 7, 46 * kGiB).status(),
              StatusIs(StatusCode::kOutOfRange, HasSubstr("worker 7")));
  // A pipe of unknown size: nine parts doubling from 8 MiB hold 8 MiB x (2^9 - 1) = 4088 MiB;
  // from 64 MiB (capped at 5 GiB - 5 MiB each) about 18 GiB.
  ASSERT_OK_AND_ASSIGN(PartSchedule piped, WorkerPartSchedule(s, 7, std::nullopt));
  EXPECT_EQ(piped.PartSize(1), 8 * kMiB);
  EXPECT_EQ(piped.MaxObjectSize(), 4088 * kMiB);
  s.part_size = 64 * kMiB;
  ASSERT_OK_AND_ASSIGN(PartSchedule piped64, WorkerPartSchedule(s, 7, std::nullopt));
  EXPECT_GT(piped64.MaxObjectSize(), 17 * kGiB);
  s.part_size = 8 * kMiB;
  s.workers = 8;  // 1,250 slots each: fixed 8 MiB parts hold ~9.7 GiB
  ASSERT_OK_AND_ASSIGN(PartSchedule eight, WorkerPartSchedule(s, 0, 256 * kMiB));
  EXPECT_EQ(eight.first_part_size(), 8 * kMiB);
}

TEST(SessionTest, JsonRoundTripsAndRejectsBadInput) {
  Session s;
  s.endpoint = "http://127.0.0.1:1";
  s.region = "us-east-1";
  s.addressing = s3::AddressingStyle::kPath;
  s.bucket = "b";
  s.key = "k";
  s.upload_id = "2~abc";
  s.workers = 4;
  s.part_size = 8 * kMiB;
  s.min_part_size = 5 * kMiB;
  s.created = 100;
  s.deadline = 200;
  s.temp_prefix = TempPrefixFor("k", "2~abc");
  ASSERT_OK_AND_ASSIGN(Session parsed, ParseSession(SessionToJson(s)));
  EXPECT_EQ(parsed.upload_id, "2~abc");
  EXPECT_EQ(parsed.addressing, s3::AddressingStyle::kPath);
  EXPECT_EQ(parsed.HeadKey(3), s.temp_prefix + "w00003");
  EXPECT_EQ(parsed.plan().Slots(3).last_part, 10000);
  EXPECT_THAT(ParseSession("{").status(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseSession(R"({"cairn_mpu_session": 1, "region": 5})").status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("region")));

  Receipt r;
  r.upload_id = "u";
  r.worker = 2;
  r.run = "r";
  r.finished = 5;
  r.size = 7;
  r.head = PieceRecord{.part_number = 0, .size = 3, .md5 = std::string(32, 'a'), .etag = "e"};
  r.parts.push_back({.part_number = 22, .size = 4, .md5 = std::string(32, 'b'), .etag = "f"});
  ASSERT_OK_AND_ASSIGN(Receipt back, ParseReceipt(ReceiptToJson(r)));
  EXPECT_EQ(back.parts[0].part_number, 22);
  EXPECT_EQ(back.head->size, 3u);
  r.size = 8;  // pieces no longer add up
  EXPECT_THAT(ParseReceipt(ReceiptToJson(r)).status(), StatusIs(StatusCode::kInvalidArgument));

  EXPECT_EQ(ParseDurationSeconds("1h30m").value(), 5400);
  EXPECT_EQ(ParseDurationSeconds("2d").value(), 172800);
  EXPECT_THAT(ParseDurationSeconds("10").status(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseDurationSeconds("5x").status(), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace cairn::objstore::mpu
