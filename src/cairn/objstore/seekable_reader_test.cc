// SeekableReader on MemObjectStore through a decorator that records every request.
#include "cairn/objstore/seekable_reader.h"

#include <gtest/gtest.h>

#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "cairn/objstore/forwarding_object_store.h"
#include "cairn/objstore/mem_object_store.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::objstore {
namespace {

using ::cairn::testing::StatusIs;

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t v = rng();
    std::memcpy(out.data() + i, &v, std::min<size_t>(8, n - i));
  }
  return out;
}

// Counts HEADs and records the range and byte count of every GET. With ignore_if_match it drops
// the pin, as a store without conditional GETs would (the reader must still notice a change).
class CountingObjectStore : public ForwardingObjectStore {
 public:
  struct GetRecord {
    uint64_t offset = 0;
    uint64_t length = 0;  // asked
    uint64_t bytes = 0;   // received
    std::string if_match;
  };

  explicit CountingObjectStore(ObjectStore* base) : ForwardingObjectStore(base) {}

  Result<ObjectAttributes> Head(std::string_view container, std::string_view key) override {
    std::lock_guard lock(mu_);
    ++heads_;
    return base()->Head(container, key);
  }
  Result<ObjectAttributes> Get(std::string_view container, std::string_view key,
                               const ReadOptions& options, const http::BodySink& sink) override {
    GetRecord record{.offset = options.range ? options.range->offset : 0,
                     .length = options.range ? options.range->length : 0,
                     .bytes = 0,
                     .if_match = options.if_match};
    ReadOptions forwarded = options;
    if (ignore_if_match) forwarded.if_match.clear();
    Result<ObjectAttributes> result =
        base()->Get(container, key, forwarded, [&](std::string_view piece) {
          record.bytes += piece.size();
          return sink(piece);
        });
    std::lock_guard lock(mu_);
    gets_.push_back(record);
    return result;
  }

  int heads() const {
    std::lock_guard lock(mu_);
    return heads_;
  }
  std::vector<GetRecord> gets() const {
    std::lock_guard lock(mu_);
    return gets_;
  }
  size_t get_count() const { return gets().size(); }

  bool ignore_if_match = false;

 private:
  mutable std::mutex mu_;
  int heads_ = 0;
  std::vector<GetRecord> gets_;
};

class SeekableReaderTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(mem_.CreateContainer("c")); }

  std::string PutObject(std::string_view key, size_t size, uint64_t seed) {
    std::string data = RandomBytes(size, seed);
    EXPECT_OK(mem_.Put("c", key, http::RequestBody::FromBytes(data), {}).status());
    return data;
  }

  std::unique_ptr<SeekableReader> OpenReader(std::string_view key,
                                             SeekableReaderOptions options = {}) {
    Result<std::unique_ptr<SeekableReader>> reader =
        SeekableReader::Open(&store_, "c", std::string(key), std::move(options));
    EXPECT_OK(reader.status());
    return reader.ok() ? std::move(*reader) : nullptr;
  }

  // Reads `n` bytes at the position; what Read returned.
  static std::string ReadString(SeekableReader& reader, size_t n) {
    std::string out(n, '\0');
    Result<size_t> got = reader.Read(out);
    EXPECT_OK(got.status());
    out.resize(got.ok() ? *got : 0);
    return out;
  }

  MemObjectStore mem_;
  CountingObjectStore store_{&mem_};
};

TEST_F(SeekableReaderTest, OpenIsLazyAndSeeksSendNothing) {
  std::string data = PutObject("obj", 1 << 20, 1);
  auto reader = OpenReader("obj");
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(store_.heads(), 1);
  EXPECT_EQ(store_.get_count(), 0u);
  EXPECT_EQ(reader->size(), data.size());
  EXPECT_EQ(reader->attributes().etag, Md5Hex(data));
  EXPECT_EQ(reader->uri(), "mem://c/obj");
  ASSERT_OK(reader->Seek(500000));
  ASSERT_OK(reader->Seek(12));
  ASSERT_OK(reader->Seek(data.size()));
  EXPECT_EQ(reader->position(), data.size());
  EXPECT_EQ(store_.get_count(), 0u);
  EXPECT_EQ(reader->stats().requests, 0u);

  // Known attributes: no HEAD either.
  auto known = OpenReader("obj", {.attributes = reader->attributes()});
  ASSERT_NE(known, nullptr);
  EXPECT_EQ(store_.heads(), 1);
  EXPECT_EQ(known->size(), data.size());
  ASSERT_OK(known->Seek(1000));
  EXPECT_EQ(ReadString(*known, 10), data.substr(1000, 10));
  ASSERT_EQ(store_.get_count(), 1u);
  EXPECT_EQ(store_.gets()[0].if_match, Md5Hex(data));  // pinned
}

TEST_F(SeekableReaderTest, OpenErrors) {
  EXPECT_THAT(SeekableReader::Open(&store_, "c", "missing").status(),
              StatusIs(StatusCode::kNotFound));
  PutObject("obj", 10, 1);
  EXPECT_THAT(SeekableReader::Open(&store_, "c", "obj", {.max_readahead = 0}).status(),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(SeekableReader::Open(&store_, "c", "obj",
                                   {.min_readahead = 2 << 20, .max_readahead = 1 << 20})
                  .status(),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(SeekableReaderTest, SequentialSmallReadsIssueFewGrowingRequests) {
  std::string data = PutObject("obj", 8 << 20, 2);
  auto reader = OpenReader("obj");  // adaptive; 256 KiB .. 8 MiB
  std::string got;
  while (true) {
    std::string piece = ReadString(*reader, 4096);
    if (piece.empty()) break;
    got += piece;
  }
  EXPECT_TRUE(got == data);
  EXPECT_EQ(reader->position(), data.size());
  std::vector<CountingObjectStore::GetRecord> gets = store_.gets();
  // 260 KiB, 516 KiB, 1028 KiB, 2052 KiB, 4100 KiB, then the last 236 KiB: log2(8 MiB / 256 KiB).
  ASSERT_EQ(gets.size(), 6u);
  EXPECT_EQ(gets[0].offset, 0u);
  EXPECT_EQ(gets[0].length, 4096u + (256 << 10));
  for (size_t i = 1; i + 1 < gets.size(); ++i) {
    EXPECT_EQ(gets[i].offset, gets[i - 1].offset + gets[i - 1].length);
    EXPECT_EQ(gets[i].length, 4096u + (256u << (10 + i))) << i;
  }
  SeekableReader::Stats stats = reader->stats();
  EXPECT_EQ(stats.requests, 6u);
  EXPECT_EQ(stats.bytes_fetched, data.size());  // nothing fetched twice, nothing past the end
  EXPECT_EQ(stats.bytes_returned, data.size());
  EXPECT_EQ(stats.seeks_skipped, 0u);
}

TEST_F(SeekableReaderTest, ReadaheadIsCappedByMaxReadahead) {
  std::string data = PutObject("obj", 6 << 20, 3);
  auto reader = OpenReader("obj", {.min_readahead = 64 << 10, .max_readahead = 512 << 10});
  std::string got;
  for (std::string piece; !(piece = ReadString(*reader, 1000)).empty();) got += piece;
  EXPECT_TRUE(got == data);
  std::vector<CountingObjectStore::GetRecord> gets = store_.gets();
  // 65 KiB, 129 KiB, 257 KiB, then 512 KiB windows: the reader never holds more than 512 KiB.
  for (const auto& g : gets) EXPECT_LE(g.length, 512u << 10);
  // 12 full windows cover 6 MiB; the three growing ones and the ragged ends add a few.
  EXPECT_GE(gets.size(), 12u);
  EXPECT_LE(gets.size(), 16u);
}

TEST_F(SeekableReaderTest, ForwardSeekInsideTheWindowSendsNothing) {
  std::string data = PutObject("obj", 4 << 20, 4);
  auto reader = OpenReader("obj");
  EXPECT_EQ(ReadString(*reader, 4096), data.substr(0, 4096));
  ASSERT_EQ(store_.get_count(), 1u);  // 4 KiB + 256 KiB
  ASSERT_OK(reader->Seek(200 << 10));
  EXPECT_EQ(ReadString(*reader, 4096), data.substr(200 << 10, 4096));
  // Backward inside the window costs nothing either.
  ASSERT_OK(reader->Seek(10));
  EXPECT_EQ(ReadString(*reader, 100), data.substr(10, 100));
  EXPECT_EQ(store_.get_count(), 1u);
  EXPECT_EQ(reader->stats().seeks_skipped, 2u);
  // A forward skip past the window but within max_seek_skip is still sequential: the next fetch
  // reads ahead with the grown window (512 KiB) rather than resetting it.
  ASSERT_OK(reader->Seek(600 << 10));
  EXPECT_EQ(ReadString(*reader, 4096), data.substr(600 << 10, 4096));
  ASSERT_EQ(store_.get_count(), 2u);
  EXPECT_EQ(store_.gets()[1].offset, 600u << 10);
  EXPECT_EQ(store_.gets()[1].length, 4096u + (512 << 10));
}

TEST_F(SeekableReaderTest, AdaptiveRandomReadDropsReadahead) {
  std::string data = PutObject("obj", 16 << 20, 5);
  auto reader = OpenReader("obj");
  std::string got;
  for (int i = 0; i < 600; ++i) got += ReadString(*reader, 4096);  // 2.4 MiB: window grows
  ASSERT_TRUE(got == data.substr(0, got.size()));
  const size_t before = store_.get_count();
  ASSERT_GE(before, 3u);
  EXPECT_GT(store_.gets().back().length, 1u << 20);
  // A random read far ahead fetches only what it asked for (at least 64 KiB) ...
  std::string random(1000, '\0');
  ASSERT_OK_AND_ASSIGN(size_t n, reader->ReadAt(10 << 20, random));
  EXPECT_EQ(n, 1000u);
  EXPECT_TRUE(random == data.substr(10 << 20, 1000));
  ASSERT_EQ(store_.get_count(), before + 1);
  EXPECT_EQ(store_.gets().back().length, SeekableReader::kMinRandomFetch);
  // ... and a backward one too.
  ASSERT_OK(reader->Seek(1 << 20));
  EXPECT_EQ(ReadString(*reader, 100000), data.substr(1 << 20, 100000));
  ASSERT_EQ(store_.get_count(), before + 2);
  EXPECT_EQ(store_.gets().back().length, 100000u);
  // Reads continuing from there are sequential again and start over from min_readahead.
  EXPECT_EQ(ReadString(*reader, 100), data.substr((1 << 20) + 100000, 100));
  ASSERT_EQ(store_.get_count(), before + 3);
  EXPECT_EQ(store_.gets().back().length, 100u + (256 << 10));
}

TEST_F(SeekableReaderTest, RandomPolicyNeverReadsAheadAndSequentialAlwaysDoes) {
  std::string data = PutObject("obj", 4 << 20, 6);
  auto random = OpenReader("obj", {.policy = ReadPolicy::kRandom});
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(ReadString(*random, 100000), data.substr(i * 100000, 100000));
  ASSERT_EQ(store_.get_count(), 3u);
  for (const auto& g : store_.gets()) EXPECT_EQ(g.length, 100000u);
  EXPECT_EQ(ReadString(*random, 10), data.substr(300000, 10));
  EXPECT_EQ(store_.gets().back().length, SeekableReader::kMinRandomFetch);

  auto sequential = OpenReader("obj", {.policy = ReadPolicy::kSequential});
  ASSERT_OK(sequential->Seek(3 << 20));  // not where reads began, still read ahead
  EXPECT_EQ(ReadString(*sequential, 10), data.substr(3 << 20, 10));
  EXPECT_EQ(store_.gets().back().length, 10u + (256 << 10));
}

TEST_F(SeekableReaderTest, AParquetFooterCostsOneSmallRequest) {
  std::string data = PutObject("obj", 10 << 20, 18);
  auto reader = OpenReader("obj");
  // The 8-byte trailer (footer length and magic), then the footer before it.
  std::string trailer(8, '\0');
  ASSERT_OK_AND_ASSIGN(size_t n, reader->ReadAt(data.size() - 8, trailer));
  EXPECT_EQ(n, 8u);
  EXPECT_TRUE(trailer == data.substr(data.size() - 8));
  std::string footer(20000, '\0');
  ASSERT_OK_AND_ASSIGN(n, reader->ReadAt(data.size() - 8 - footer.size(), footer));
  EXPECT_TRUE(footer == data.substr(data.size() - 8 - footer.size(), footer.size()));
  ASSERT_EQ(store_.get_count(), 1u);
  EXPECT_EQ(store_.gets()[0].offset, data.size() - SeekableReader::kMinRandomFetch);
  EXPECT_EQ(store_.gets()[0].length, SeekableReader::kMinRandomFetch);
  EXPECT_EQ(reader->stats().seeks_skipped, 1u);
}

TEST_F(SeekableReaderTest, ReadsLargerThanTheWindowGoStraightToTheCaller) {
  std::string data = PutObject("obj", 3 << 20, 7);
  auto reader = OpenReader("obj", {.min_readahead = 64 << 10, .max_readahead = 256 << 10});
  ASSERT_OK(reader->Seek(1000));
  std::string got = ReadString(*reader, 2 << 20);
  EXPECT_TRUE(got == data.substr(1000, 2 << 20));
  ASSERT_EQ(store_.get_count(), 1u);
  EXPECT_EQ(store_.gets()[0].length, 2u << 20);
  // The tail, larger than the window but cut at the end.
  got = ReadString(*reader, 2 << 20);
  EXPECT_TRUE(got == data.substr(1000 + (2 << 20)));
  EXPECT_EQ(reader->stats().bytes_fetched, data.size() - 1000);
}

TEST_F(SeekableReaderTest, ReadsAtAndAfterTheEnd) {
  std::string data = PutObject("obj", 10000, 8);
  auto reader = OpenReader("obj");
  ASSERT_OK(reader->Seek(9990));
  EXPECT_EQ(ReadString(*reader, 100), data.substr(9990));  // short: the object ends
  EXPECT_EQ(reader->position(), 10000u);
  EXPECT_EQ(ReadString(*reader, 100), "");
  EXPECT_EQ(reader->position(), 10000u);
  EXPECT_THAT(reader->Seek(10001), StatusIs(StatusCode::kOutOfRange));
  EXPECT_EQ(reader->position(), 10000u);
  char buf[10];
  ASSERT_OK_AND_ASSIGN(size_t n, reader->ReadAt(10000, buf));
  EXPECT_EQ(n, 0u);
  ASSERT_OK_AND_ASSIGN(n, reader->ReadAt(1 << 30, buf));
  EXPECT_EQ(n, 0u);
  ASSERT_OK_AND_ASSIGN(n, reader->ReadAt(5, std::span<char>()));
  EXPECT_EQ(n, 0u);
  EXPECT_EQ(store_.get_count(), 1u);
  for (const auto& g : store_.gets()) EXPECT_LE(g.offset + g.length, data.size());
}

TEST_F(SeekableReaderTest, ZeroByteObjectsNeedNoGet) {
  PutObject("empty", 0, 9);
  auto reader = OpenReader("empty");
  EXPECT_EQ(reader->size(), 0u);
  EXPECT_EQ(ReadString(*reader, 100), "");
  ASSERT_OK(reader->Seek(0));
  EXPECT_THAT(reader->Seek(1), StatusIs(StatusCode::kOutOfRange));
  ASSERT_OK(reader->ReadVectored({}, {}));
  std::vector<ObjectRange> ranges = {{.offset = 0, .length = 1}};
  char byte;
  std::vector<std::span<char>> out = {std::span<char>(&byte, 1)};
  EXPECT_THAT(reader->ReadVectored(ranges, out), StatusIs(StatusCode::kOutOfRange));
  EXPECT_EQ(store_.get_count(), 0u);
}

TEST_F(SeekableReaderTest, ReadVectoredCoalescesNearbyRanges) {
  std::string data = PutObject("obj", 40 << 20, 10);
  auto reader = OpenReader("obj", {.policy = ReadPolicy::kRandom});
  // Given out of order and overlapping: [30M, +1000) alone; [5M, +100), [5M+50, +200) and
  // [5M+100K, +10) within 1 MiB of each other: one request; [0, +64K) alone (gap 5M).
  std::vector<ObjectRange> ranges = {{.offset = 30 << 20, .length = 1000},
                                     {.offset = 5 << 20, .length = 100},
                                     {.offset = 0, .length = 64 << 10},
                                     {.offset = (5 << 20) + 100000, .length = 10},
                                     {.offset = (5 << 20) + 50, .length = 200}};
  std::vector<std::string> buffers;
  for (const ObjectRange& r : ranges) buffers.emplace_back(r.length, '\0');
  std::vector<std::span<char>> out(buffers.begin(), buffers.end());
  ASSERT_OK(reader->ReadVectored(ranges, out));
  for (size_t i = 0; i < ranges.size(); ++i) {
    EXPECT_TRUE(buffers[i] == data.substr(ranges[i].offset, ranges[i].length)) << i;
  }
  std::vector<CountingObjectStore::GetRecord> gets = store_.gets();
  ASSERT_EQ(gets.size(), 3u);
  std::sort(gets.begin(), gets.end(), [](auto& a, auto& b) { return a.offset < b.offset; });
  EXPECT_EQ(gets[0].length, 64u << 10);
  EXPECT_EQ(gets[1].offset, 5u << 20);
  EXPECT_EQ(gets[1].length, 100010u);
  EXPECT_EQ(gets[2].length, 1000u);
  for (const auto& g : gets) EXPECT_EQ(g.if_match, reader->attributes().etag);
  EXPECT_EQ(reader->stats().bytes_returned, (64u << 10) + 100 + 10 + 200 + 1000);
  EXPECT_EQ(reader->position(), 0u);

  // With no merging at all every range is its own request; with a huge gap the merged requests
  // are still capped at kMaxMergedRequest.
  ASSERT_OK(reader->ReadVectored(ranges, out, /*max_merge_gap=*/0, /*parallelism=*/1));
  EXPECT_EQ(store_.get_count(), 3u + 4u);  // the two overlapping ones still share a request
  ASSERT_OK(reader->ReadVectored(ranges, out, /*max_merge_gap=*/1ULL << 40, /*parallelism=*/2));
  gets = store_.gets();
  ASSERT_EQ(gets.size(), 7u + 1u);  // [0, 30M + 1000): under kMaxMergedRequest
  EXPECT_EQ(gets.back().offset, 0u);
  EXPECT_EQ(gets.back().length, (30u << 20) + 1000);
  for (size_t i = 0; i < ranges.size(); ++i) {
    EXPECT_TRUE(buffers[i] == data.substr(ranges[i].offset, ranges[i].length)) << i;
  }
}

TEST_F(SeekableReaderTest, ReadVectoredChecksItsArguments) {
  PutObject("obj", 1000, 11);
  auto reader = OpenReader("obj");
  std::string a(10, '\0');
  std::vector<ObjectRange> ranges = {{.offset = 0, .length = 10}};
  std::vector<std::span<char>> none;
  EXPECT_THAT(reader->ReadVectored(ranges, none), StatusIs(StatusCode::kInvalidArgument));
  std::vector<std::span<char>> short_buffer = {std::span<char>(a.data(), 5)};
  EXPECT_THAT(reader->ReadVectored(ranges, short_buffer), StatusIs(StatusCode::kInvalidArgument));
  std::vector<ObjectRange> past = {{.offset = 995, .length = 10}};
  std::vector<std::span<char>> out = {std::span<char>(a)};
  EXPECT_THAT(reader->ReadVectored(past, out), StatusIs(StatusCode::kOutOfRange));
  EXPECT_EQ(store_.get_count(), 0u);
}

TEST_F(SeekableReaderTest, ReadVectoredUsesTheBufferAndManyThreads) {
  std::string data = PutObject("obj", 20 << 20, 12);
  auto reader = OpenReader("obj");
  EXPECT_EQ(ReadString(*reader, 10), data.substr(0, 10));  // buffers [0, 256 KiB + 10)
  std::vector<ObjectRange> ranges;
  for (uint64_t i = 0; i < 16; ++i) ranges.push_back({.offset = i * (1 << 20) + 7, .length = 777});
  std::vector<std::string> buffers(ranges.size(), std::string(777, '\0'));
  std::vector<std::span<char>> out(buffers.begin(), buffers.end());
  ASSERT_OK(reader->ReadVectored(ranges, out, /*max_merge_gap=*/4096, /*parallelism=*/8));
  for (size_t i = 0; i < ranges.size(); ++i) {
    EXPECT_TRUE(buffers[i] == data.substr(ranges[i].offset, 777)) << i;
  }
  EXPECT_EQ(store_.get_count(), 1u + 15u);  // the first range came from the buffer
}

TEST_F(SeekableReaderTest, AnOverwrittenObjectFailsAndNeverMixesVersions) {
  std::string old_data = PutObject("obj", 2 << 20, 13);
  auto reader = OpenReader("obj");
  EXPECT_EQ(ReadString(*reader, 1000), old_data.substr(0, 1000));
  std::string new_data = PutObject("obj", 2 << 20, 14);
  // Inside the buffered window: the opened version's bytes, as read before the change.
  EXPECT_EQ(ReadString(*reader, 1000), old_data.substr(1000, 1000));
  // Anything needing a request fails, naming the object.
  std::string buf(100000, '\0');
  Result<size_t> n = reader->ReadAt(1 << 20, buf);
  EXPECT_THAT(n.status(), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_NE(n.status().message().find("mem://c/obj"), std::string_view::npos);
  EXPECT_NE(n.status().message().find("changed since it was opened"), std::string_view::npos);
  // A read that starts in the buffer and runs past it returns nothing rather than old bytes
  // followed by new ones.
  std::string across(300 << 10, '\0');
  EXPECT_THAT(reader->Read(across).status(), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(reader->position(), 2000u);
  std::vector<ObjectRange> ranges = {{.offset = 1 << 20, .length = 10}};
  std::vector<std::span<char>> out = {std::span<char>(buf.data(), 10)};
  EXPECT_THAT(reader->ReadVectored(ranges, out), StatusIs(StatusCode::kFailedPrecondition));
  // The failed fetch left nothing behind: even the old window is gone.
  EXPECT_THAT(reader->ReadAt(0, std::span<char>(buf.data(), 10)).status(),
              StatusIs(StatusCode::kFailedPrecondition));
  // A new reader sees the new version.
  auto fresh = OpenReader("obj");
  EXPECT_EQ(ReadString(*fresh, 1000), new_data.substr(0, 1000));
}

TEST_F(SeekableReaderTest, AChangeIsCaughtEvenWhenTheStoreIgnoresIfMatch) {
  PutObject("obj", 100000, 15);
  auto reader = OpenReader("obj", {.policy = ReadPolicy::kRandom});
  PutObject("obj", 100000, 16);  // same size, new ETag
  store_.ignore_if_match = true;
  std::string buf(10, '\0');
  Result<size_t> n = reader->ReadAt(0, buf);
  EXPECT_THAT(n.status(), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_NE(n.status().message().find("changed since it was opened"), std::string_view::npos);
  // A shorter object: the range the opened one had is past the new end.
  std::string small = "tiny";
  ASSERT_OK(mem_.Put("c", "obj", http::RequestBody::FromBytes(small), {}).status());
  EXPECT_THAT(reader->ReadAt(50000, buf).status(), StatusIs(StatusCode::kFailedPrecondition));
  // Deleted: not found.
  ASSERT_OK(mem_.Delete("c", "obj"));
  EXPECT_THAT(reader->ReadAt(0, buf).status(), StatusIs(StatusCode::kNotFound));
}

// Random mixes of Seek, Read and ReadAt under each policy return the object's bytes, and no GET
// is larger than the window unless a single read asked for more.
TEST_F(SeekableReaderTest, RandomOperationsReturnTheRightBytes) {
  std::string data = PutObject("obj", (3 << 20) + 12345, 17);
  std::mt19937_64 rng(42);
  for (ReadPolicy policy : {ReadPolicy::kSequential, ReadPolicy::kRandom, ReadPolicy::kAdaptive}) {
    SeekableReaderOptions options{.policy = policy,
                                  .min_readahead = 16 << 10,
                                  .max_readahead = 256 << 10,
                                  .max_seek_skip = 64 << 10};
    auto reader = OpenReader("obj", options);
    const size_t gets_before = store_.get_count();
    uint64_t largest_read = 0;
    for (int step = 0; step < 400; ++step) {
      const uint64_t length = rng() % 3 == 0 ? rng() % (600 << 10) : rng() % 5000;
      largest_read = std::max(largest_read, length);
      std::string buf(length, '\0');
      switch (rng() % 3) {
        case 0:
          ASSERT_OK(reader->Seek(rng() % (data.size() + 1)));
          break;
        case 1: {
          const uint64_t at = reader->position();
          ASSERT_OK_AND_ASSIGN(size_t n, reader->Read(buf));
          ASSERT_EQ(n, std::min<uint64_t>(length, data.size() - at));
          ASSERT_TRUE(buf.substr(0, n) == data.substr(at, n)) << step;
          ASSERT_EQ(reader->position(), at + n);
          break;
        }
        default: {
          const uint64_t at = rng() % (data.size() + 100);
          ASSERT_OK_AND_ASSIGN(size_t n, reader->ReadAt(at, buf));
          ASSERT_EQ(n, at >= data.size() ? 0 : std::min<uint64_t>(length, data.size() - at));
          ASSERT_TRUE(n == 0 || buf.substr(0, n) == data.substr(at, n)) << step;
        }
      }
    }
    std::vector<CountingObjectStore::GetRecord> gets = store_.gets();
    for (size_t i = gets_before; i < gets.size(); ++i) {
      EXPECT_TRUE(gets[i].length <= options.max_readahead || gets[i].length <= largest_read);
      EXPECT_EQ(gets[i].bytes, gets[i].length);
    }
  }
}

}  // namespace
}  // namespace cairn::objstore
