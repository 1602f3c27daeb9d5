// Tests of the engine's batched hashing (part_hash.h) and of the transfer paths built on it:
// uploads hashed ahead of sending and sent from the source, downloads received whole and hashed
// in batches (within the memory budget, several at once), read back and hashed when parts are too
// large for the budget, and written to a file past the page cache.
#include "cairn/objstore/transfer/part_hash.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cairn/http/fault_injecting_http_client.h"
#include "cairn/objstore/transfer/local_file.h"
#include "cairn/objstore/transfer/mem_s3.h"
#include "cairn/objstore/transfer/transfer.h"
#include "cairn/testing/fake_env.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::objstore::transfer {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;

constexpr uint64_t kPart = kMiB;

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return out;
}

TEST(PartHashTest, PartsHashedTogetherMatchOneByOne) {
  const std::vector<size_t> lengths = {0, 1, 55, 56, 63, 64, 65, 127, 4096, 100'000, 1 << 20};
  for (size_t count : {0, 1, 2, 3, 5, 16, 17, 33}) {
    std::vector<std::string> data;
    for (size_t i = 0; i < count; ++i) {
      data.push_back(RandomBytes(lengths[(i * 7) % lengths.size()], i + count));
    }
    std::vector<std::string_view> views(data.begin(), data.end());
    std::vector<Md5Digest> got(count);
    HashPartsTogether(views, got);
    for (size_t i = 0; i < count; ++i) {
      EXPECT_EQ(got[i], Md5Of(data[i])) << "count " << count << " part " << i;
    }
  }
}

TEST(PartHashTest, RangesHashedTogetherMatchOneByOneWithinAnyBudget) {
  const std::string data = RandomBytes(3 * kMiB + 12345, 5);
  MemorySource source(data);
  auto read_at = [&](uint64_t offset, std::span<char> out) { return source.ReadAt(offset, out); };
  std::vector<HashRange> ranges;
  for (uint64_t offset = 0; offset < data.size(); offset += 100'003) {
    ranges.push_back({offset, std::min<uint64_t>(100'003 + offset % 77, data.size() - offset)});
  }
  ranges.push_back({0, data.size()});
  ranges.push_back({17, 0});
  for (uint64_t limit : {uint64_t{1}, uint64_t{4096 * 3 + 1}, uint64_t{64} << 10, 64 * kMiB}) {
    MemoryBudget budget(limit);
    std::vector<Md5Digest> got(ranges.size());
    ASSERT_OK(HashRangesTogether(read_at, "memory", ranges, got, budget));
    for (size_t i = 0; i < ranges.size(); ++i) {
      EXPECT_EQ(got[i], Md5Of(std::string_view(data).substr(ranges[i].offset, ranges[i].length)))
          << "limit " << limit << " range " << i;
    }
    EXPECT_LE(budget.peak_in_use(), limit);
    EXPECT_EQ(budget.in_use(), 0u);
  }
}

TEST(PartHashTest, RangesPastTheEndAreFailedPrecondition) {
  const std::string data = RandomBytes(1000, 1);
  MemorySource source(data);
  MemoryBudget budget(kMiB);
  std::vector<HashRange> ranges = {{0, 500}, {900, 200}};
  std::vector<Md5Digest> got(ranges.size());
  EXPECT_THAT(
      HashRangesTogether([&](uint64_t o, std::span<char> out) { return source.ReadAt(o, out); },
                         "the source", ranges, got, budget),
      StatusIs(StatusCode::kFailedPrecondition, HasSubstr("the source ends at byte 1000")));
}

TEST(PartHashTest, TryAcquireForWaitsAtMostItsTime) {
  MemoryBudget budget(100);
  ASSERT_OK_AND_ASSIGN(PartBuffer a, budget.Acquire(60));
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(budget.TryAcquireFor(50, std::chrono::milliseconds(20)).has_value());
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(20));
  EXPECT_FALSE(budget.TryAcquireFor(101, std::chrono::milliseconds(1)).has_value());
  std::thread returner([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    a = PartBuffer();
  });
  std::optional<PartBuffer> b = budget.TryAcquireFor(50, std::chrono::seconds(10));
  returner.join();
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->capacity(), 50u);
}

// A seekable source whose bytes change after `reads_before_change` reads at offset 0: the upload
// hashes the first part, then sends different bytes.
class ChangingSource final : public ByteSource {
 public:
  ChangingSource(std::string data, int reads_before_change)
      : data_(std::move(data)), left_(reads_before_change) {}
  std::optional<uint64_t> size() const override { return data_.size(); }
  bool seekable() const override { return true; }
  Result<size_t> ReadAt(uint64_t offset, std::span<char> out) override {
    if (offset == 0 && left_.fetch_sub(1) == 0) {
      std::lock_guard lock(mu_);
      data_[0] = static_cast<char>(data_[0] ^ 1);
    }
    std::lock_guard lock(mu_);
    return MemorySource(data_).ReadAt(offset, out);
  }
  Result<size_t> Read(std::span<char>) override { return UnimplementedError("seekable only"); }
  std::string name() const override { return "changing"; }

 private:
  std::mutex mu_;
  std::string data_;  // guarded by mu_
  std::atomic<int> left_;
};

class BatchedTransferTest : public ::testing::Test {
 protected:
  void Init(TransferOptions options) {
    http_ = std::make_unique<http::FaultInjectingHttpClient>(
        &mem_, http::FaultInjectionOptions{.seed = 7, .rates = {}, .eligible = nullptr});
    s3::S3Settings settings;
    settings.credentials = {"AKIDEXAMPLE", "secret", ""};
    settings.region = "us-east-1";
    settings.endpoint_url = "http://mem.test";
    settings.addressing = s3::AddressingStyle::kPath;
    ASSERT_OK_AND_ASSIGN(client_, s3::S3Client::Create(settings, http_.get(), &env_, {}));
    options.part_size = kPart;
    options.limits.min_part_size = kPart;
    ASSERT_OK_AND_ASSIGN(engine_, TransferEngine::Create(client_.get(), &env_, options));
  }

  MemS3 mem_{kPart};
  std::unique_ptr<http::FaultInjectingHttpClient> http_;
  cairn::testing::FakeEnv env_;
  std::unique_ptr<s3::S3Client> client_;
  std::unique_ptr<TransferEngine> engine_;
};

TEST_F(BatchedTransferTest, ASourceThatChangesAfterHashingFailsTheUploadAndAbortsIt) {
  Init({});
  ChangingSource source(RandomBytes(20 * kPart + 3, 2), 1);
  Result<UploadResult> r = engine_->Upload(source, "b", "k");
  EXPECT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("BadDigest"));
  EXPECT_THAT(r.status().message(), HasSubstr("aborted (none left behind)"));
  EXPECT_EQ(mem_.uploads_in_progress(), 0u);
  EXPECT_FALSE(mem_.GetObjectDirect("b", "k").has_value());
}

// Several downloads at once on one engine whose budget holds few parts: the ranges waiting for
// memory flush the parts their download holds, so none waits forever, and every part is checked.
TEST_F(BatchedTransferTest, ConcurrentDownloadsShareATightBudget) {
  TransferOptions options;
  options.concurrency = 8;
  options.memory_bytes = 5 * kPart;
  Init(options);
  std::vector<std::string> data;
  for (int i = 0; i < 4; ++i) {
    data.push_back(RandomBytes(17 * kPart + 1000 * i, 10 + i));
    MemorySource source(data.back());
    ASSERT_OK(engine_->Upload(source, "b", "k" + std::to_string(i)).status());
  }
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<MemorySink>> sinks;
  std::vector<Result<DownloadResult>> results(data.size(), InternalError("not run"));
  for (size_t i = 0; i < data.size(); ++i) sinks.push_back(std::make_unique<MemorySink>());
  for (size_t i = 0; i < data.size(); ++i) {
    threads.emplace_back(
        [&, i] { results[i] = engine_->Download("b", "k" + std::to_string(i), *sinks[i]); });
  }
  for (std::thread& t : threads) t.join();
  for (size_t i = 0; i < data.size(); ++i) {
    ASSERT_OK(results[i].status());
    EXPECT_EQ(results[i]->verified, "part-md5s");
    EXPECT_TRUE(sinks[i]->data() == data[i]) << i;
  }
  EXPECT_LE(engine_->budget().peak_in_use(), 5 * kPart);
  EXPECT_EQ(engine_->budget().in_use(), 0u);
}

// Parts too large to hold in the budget are written as they come and read back to be hashed;
// a corrupted part is still caught that way.
TEST_F(BatchedTransferTest, PartsLargerThanTheBudgetAreReadBackAndChecked) {
  TransferOptions options;
  options.memory_bytes = kPart;  // a 1 MiB part is more than half of it
  Init(options);
  std::string data = RandomBytes(20 * kPart + 5, 3);
  MemorySource source(data);
  ASSERT_OK(engine_->Upload(source, "b", "k").status());
  MemorySink sink;
  ASSERT_OK_AND_ASSIGN(DownloadResult r, engine_->Download("b", "k", sink));
  EXPECT_EQ(r.verified, "part-md5s");
  EXPECT_TRUE(sink.data() == data);
  EXPECT_LE(engine_->budget().peak_in_use(), kPart);

  MemS3::Object stored = *mem_.GetObjectDirect("b", "k");
  stored.data[7 * kPart + 3] ^= 1;
  mem_.PutObjectDirect("b", "k", stored);
  MemorySink bad;
  EXPECT_THAT(engine_->Download("b", "k", bad), StatusIs(StatusCode::kDataLoss));
  EXPECT_TRUE(bad.abandoned());
  EXPECT_FALSE(bad.committed());
}

// A download into a real file: whole parts go past the page cache where the file system allows
// (O_DIRECT), the unaligned tail through it; the file holds exactly the object.
TEST_F(BatchedTransferTest, DownloadsIntoAFileWithDirectWrites) {
  Init({});
  const std::string data = RandomBytes(19 * kPart + 4097, 4);
  MemorySource source(data);
  ASSERT_OK(engine_->Upload(source, "b", "k").status());
  char dir_template[] = "/tmp/cairn-part-hash-test-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string path = std::string(dir_template) + "/out.bin";
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<FileSink> sink, FileSink::Create(path));
    std::printf("O_DIRECT on %s: %s\n", dir_template, sink->writes_direct() ? "yes" : "no");
    ASSERT_OK_AND_ASSIGN(DownloadResult r, engine_->Download("b", "k", *sink));
    EXPECT_EQ(r.verified, "part-md5s");
  }
  std::ifstream in(path, std::ios::binary);
  std::string got((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_TRUE(got == data) << got.size() << " bytes";
  std::filesystem::remove_all(dir_template);
}

}  // namespace
}  // namespace cairn::objstore::transfer
