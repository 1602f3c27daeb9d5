#include "cairn/objstore/part_size.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "cairn/common/hash.h"
#include "cairn/testing/status_matchers.h"

namespace cairn::objstore {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::StatusIs;

constexpr uint64_t k5MiB = 5 * kMiB;
constexpr uint64_t k5GiB = 5 * kGiB;
constexpr uint64_t k5TiB = 5 * kTiB;
constexpr int kMaxParts = 10'000;

Md5Digest DigestFromHex(std::string_view hex) {
  Md5Digest digest{};
  for (size_t i = 0; i < digest.size(); ++i) {
    digest[i] = static_cast<uint8_t>(std::stoi(std::string(hex.substr(2 * i, 2)), nullptr, 16));
  }
  return digest;
}

// Checks the invariants every schedule must keep under S3's limits.
void ExpectValidS3Schedule(const PartSchedule& schedule) {
  uint64_t previous = 0;
  for (int part = 1; part <= kMaxParts; ++part) {
    const uint64_t size = schedule.PartSize(part);
    ASSERT_GE(size, k5MiB) << "part " << part;
    ASSERT_LE(size, k5GiB) << "part " << part;
    ASSERT_EQ(size % kMiB, 0u) << "part " << part;
    ASSERT_GE(size, previous) << "part " << part;
    previous = size;
  }
}

// --- Known size -----------------------------------------------------------------------------

TEST(ChoosePartSizeTest, SmallObjectsUseThePreferredSize) {
  ASSERT_OK_AND_ASSIGN(uint64_t part, ChoosePartSize(0, 8 * kMiB));
  EXPECT_EQ(part, 8 * kMiB);
  ASSERT_OK_AND_ASSIGN(part, ChoosePartSize(kMiB, 8 * kMiB));
  EXPECT_EQ(part, 8 * kMiB);
  ASSERT_OK_AND_ASSIGN(part, ChoosePartSize(5 * kGiB, 8 * kMiB));
  EXPECT_EQ(part, 8 * kMiB);  // 640 parts
}

TEST(ChoosePartSizeTest, PreferredSizeIsRoundedUpToWholeMiB) {
  ASSERT_OK_AND_ASSIGN(uint64_t part, ChoosePartSize(kGiB, 6'000'000));
  EXPECT_EQ(part, 6 * kMiB);
  ASSERT_OK_AND_ASSIGN(part, ChoosePartSize(kGiB, k5MiB));
  EXPECT_EQ(part, k5MiB);  // already whole
  ASSERT_OK_AND_ASSIGN(part, ChoosePartSize(kGiB, k5GiB - 1));
  EXPECT_EQ(part, k5GiB);  // rounding up lands exactly on the maximum
}

TEST(ChoosePartSizeTest, PreferredSizeOutsideTheLimitsIsAnError) {
  EXPECT_THAT(ChoosePartSize(kGiB, k5MiB - 1),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("preferred part size of 5242879 bytes"),
                             HasSubstr("5242880 bytes (5 MiB) to 5368709120 bytes (5 GiB)"))));
  EXPECT_THAT(ChoosePartSize(kGiB, 0), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ChoosePartSize(kGiB, k5GiB + 1),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("5368709121 bytes")));
  EXPECT_THAT(ChoosePartSize(std::nullopt, k5GiB + 1), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ChoosePartSizeTest, FiftyGiBGrowsPastFiveMiBToFit) {
  const uint64_t size = 50 * kGiB;
  // 50 GiB / 10,000 = 5.12 MiB, so 5 MiB parts would need 10,240: the next whole MiB is 6.
  ASSERT_OK_AND_ASSIGN(PartSchedule schedule, ChoosePartSchedule(size, k5MiB));
  EXPECT_EQ(schedule.first_part_size(), 6 * kMiB);
  EXPECT_EQ(schedule.PartCount(size), 8534);
  // 8 MiB already fits (6,400 parts), so it is kept.
  ASSERT_OK_AND_ASSIGN(schedule, ChoosePartSchedule(size, 8 * kMiB));
  EXPECT_EQ(schedule.first_part_size(), 8 * kMiB);
  EXPECT_EQ(schedule.PartCount(size), 6400);
}

TEST(ChoosePartSizeTest, ExactlyFiveTiB) {
  ASSERT_OK_AND_ASSIGN(PartSchedule schedule, ChoosePartSchedule(k5TiB, k5MiB));
  // 5 TiB / 10,000 = 524.288 MiB → 525 MiB parts, 9,987 of them.
  EXPECT_EQ(schedule.first_part_size(), 525 * kMiB);
  EXPECT_EQ(schedule.PartCount(k5TiB), 9987);
  EXPECT_EQ(schedule.PartSize(kMaxParts), 525 * kMiB);  // a known size never doubles
  ExpectValidS3Schedule(schedule);
}

TEST(ChoosePartSizeTest, AboveFiveTiBIsAnError) {
  EXPECT_THAT(ChoosePartSize(k5TiB + 1, k5MiB),
              StatusIs(StatusCode::kInvalidArgument,
                       "object of 5497558138881 bytes is larger than the maximum object size of "
                       "5497558138880 bytes (5 TiB)"));
  EXPECT_THAT(ChoosePartSize(UINT64_MAX, k5MiB), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ChoosePartSizeTest, KnownSizeIsTheSmallestWholeMiBThatFits) {
  std::mt19937_64 rng(5);
  std::vector<uint64_t> sizes = {1,         k5MiB, k5MiB * kMaxParts, k5MiB * kMaxParts + 1,
                                 50 * kGiB, kTiB,  k5TiB - 1,         k5TiB};
  for (int i = 0; i < 200; ++i) sizes.push_back(rng() % (k5TiB + 1));
  for (uint64_t preferred : {k5MiB, 8 * kMiB, 64 * kMiB}) {
    for (uint64_t size : sizes) {
      ASSERT_OK_AND_ASSIGN(uint64_t part, ChoosePartSize(size, preferred));
      EXPECT_EQ(part % kMiB, 0u) << size;
      EXPECT_GE(part, preferred) << size;
      EXPECT_LE(part, k5GiB) << size;
      EXPECT_GE(part * kMaxParts, size) << size;  // fits
      if (part > preferred) {
        EXPECT_LT((part - kMiB) * kMaxParts, size) << size;  // one MiB less would not
      }
    }
  }
}

// --- Unknown size ---------------------------------------------------------------------------

class UnknownSizeTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(UnknownSizeTest, ReachesFiveTiBWithinTenThousandParts) {
  const uint64_t preferred = GetParam();
  ASSERT_OK_AND_ASSIGN(PartSchedule schedule, ChoosePartSchedule(std::nullopt, preferred));
  EXPECT_EQ(schedule.PartSize(1), preferred);
  ExpectValidS3Schedule(schedule);
  EXPECT_GE(schedule.PartOffset(kMaxParts + 1), k5TiB);
  EXPECT_EQ(schedule.MaxObjectSize(), k5TiB);
  EXPECT_LE(schedule.PartCount(k5TiB), kMaxParts);
  EXPECT_GE(schedule.PartCount(k5TiB), 1);
  EXPECT_EQ(schedule.PartCount(k5TiB + 1), 0);
  // The interval is the largest that works: one more part per size and 5 TiB no longer fits.
  if (schedule.parts_per_doubling() < kMaxParts) {
    ASSERT_OK_AND_ASSIGN(PartSchedule slower,
                         PartSchedule::Create(preferred, schedule.parts_per_doubling() + 1));
    EXPECT_LT(slower.PartOffset(kMaxParts + 1), k5TiB);
  }
}

INSTANTIATE_TEST_SUITE_P(PreferredSizes, UnknownSizeTest,
                         ::testing::Values(k5MiB, 6 * kMiB, 8 * kMiB, 16 * kMiB, 64 * kMiB,
                                           100 * kMiB, 524 * kMiB, 525 * kMiB, kGiB, k5GiB));

TEST(UnknownSizeScheduleTest, FiveMiBDoublesEveryFewHundredParts) {
  ASSERT_OK_AND_ASSIGN(PartSchedule schedule, ChoosePartSchedule(std::nullopt, k5MiB));
  const int n = schedule.parts_per_doubling();
  EXPECT_EQ(schedule.PartSize(n), k5MiB);
  EXPECT_EQ(schedule.PartSize(n + 1), 10 * kMiB);
  EXPECT_EQ(schedule.PartSize(2 * n + 1), 20 * kMiB);
  EXPECT_EQ(schedule.PartSize(kMaxParts), k5GiB);  // capped at the maximum part size
  // 997 parts per size: 5, 10, ..., 2560 MiB (ten sizes, 4.86 TiB), then the last 30 parts at
  // 5 GiB bring the total to 5.01 TiB. The first 4.9 GiB go in 5 MiB parts.
  EXPECT_EQ(n, 997);
}

TEST(UnknownSizeScheduleTest, LargePreferredSizeNeverDoubles) {
  // 525 MiB × 10,000 ≥ 5 TiB already.
  ASSERT_OK_AND_ASSIGN(PartSchedule schedule, ChoosePartSchedule(std::nullopt, 525 * kMiB));
  EXPECT_EQ(schedule.parts_per_doubling(), kMaxParts);
  EXPECT_EQ(schedule.PartSize(kMaxParts), 525 * kMiB);
}

TEST(UnknownSizeScheduleTest, StoreWithFewPartsNeedsALargerStart) {
  // Swift's s3api: 1,000 parts, so at most 1,000 × 5 GiB. From 5 MiB even doubling at every part
  // falls short of that; only 5 GiB parts from the first one reach it.
  const MultipartLimits swift{.max_parts = 1000, .max_object_size = 1000 * k5GiB};
  EXPECT_THAT(ChoosePartSchedule(std::nullopt, k5MiB, swift),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("5242880 bytes (5 MiB)"), HasSubstr("1000 parts"),
                             HasSubstr("larger part size"))));
  ASSERT_OK_AND_ASSIGN(PartSchedule schedule, ChoosePartSchedule(std::nullopt, k5GiB, swift));
  EXPECT_EQ(schedule.MaxObjectSize(), 1000 * k5GiB);
  EXPECT_OK(ChoosePartSchedule(1000 * k5GiB, k5MiB, swift));
}

TEST(ChoosePartSizeTest, LimitsThatCannotHoldTheirMaximumObject) {
  // 5 TiB claimed, but 1,000 parts of 5 GiB hold only 4.88 TiB.
  const MultipartLimits odd{.max_parts = 1000};
  EXPECT_THAT(ChoosePartSchedule(k5TiB, k5MiB, odd),
              StatusIs(StatusCode::kInvalidArgument,
                       "object of 5497558138880 bytes (5 TiB) does not fit in 1000 parts of at "
                       "most 5368709120 bytes (5 GiB)"));
  EXPECT_THAT(ChoosePartSchedule(std::nullopt, k5GiB, odd),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("cannot reach")));
}

// --- PartSchedule ---------------------------------------------------------------------------

TEST(PartScheduleTest, OffsetsAndCountsAgree) {
  ASSERT_OK_AND_ASSIGN(PartSchedule schedule, PartSchedule::Create(k5MiB, 3));
  // 5, 5, 5, 10, 10, 10, 20, ... MiB.
  EXPECT_EQ(schedule.PartOffset(0), 0u);
  EXPECT_EQ(schedule.PartOffset(1), 0u);
  EXPECT_EQ(schedule.PartOffset(4), 15 * kMiB);
  EXPECT_EQ(schedule.PartOffset(7), 45 * kMiB);
  EXPECT_EQ(schedule.PartCount(0), 1);
  EXPECT_EQ(schedule.PartCount(1), 1);
  EXPECT_EQ(schedule.PartCount(15 * kMiB), 3);
  EXPECT_EQ(schedule.PartCount(15 * kMiB + 1), 4);
  EXPECT_EQ(schedule.PartCount(45 * kMiB), 6);
  EXPECT_EQ(schedule.PartCount(45 * kMiB + 1), 7);

  std::mt19937_64 rng(9);
  for (int i = 0; i < 500; ++i) {
    const uint64_t size = 1 + rng() % schedule.MaxObjectSize();
    const int n = schedule.PartCount(size);
    ASSERT_GE(n, 1);
    ASSERT_LE(n, kMaxParts);
    // The object ends inside part n.
    ASSERT_LT(schedule.PartOffset(n), size) << size;
    ASSERT_GE(schedule.PartOffset(n + 1), size) << size;
  }
}

TEST(PartScheduleTest, PartNumbersOutsideTheRangeHaveNoSize) {
  ASSERT_OK_AND_ASSIGN(PartSchedule schedule, PartSchedule::Create(k5MiB, 100));
  EXPECT_EQ(schedule.PartSize(0), 0u);
  EXPECT_EQ(schedule.PartSize(-1), 0u);
  EXPECT_EQ(schedule.PartSize(kMaxParts + 1), 0u);
  EXPECT_EQ(schedule.PartOffset(kMaxParts + 50), schedule.PartOffset(kMaxParts + 1));
}

TEST(PartScheduleTest, CreateChecksItsArguments) {
  EXPECT_THAT(PartSchedule::Create(kMiB, 10),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("first part size of 1048576")));
  EXPECT_THAT(PartSchedule::Create(k5MiB, 0),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("not 0")));
  EXPECT_THAT(PartSchedule::Create(k5MiB, 10, {.min_part_size = 10, .max_part_size = 5}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("inconsistent")));
  ASSERT_OK_AND_ASSIGN(PartSchedule schedule, PartSchedule::Create(k5MiB, 1'000'000));
  EXPECT_EQ(schedule.parts_per_doubling(), kMaxParts);
  EXPECT_EQ(schedule.MaxObjectSize(), k5MiB * kMaxParts);  // 48.8 GiB: rclone's stdin limit
}

// --- Multipart ETag -------------------------------------------------------------------------

TEST(MultipartEtagTest, TwoPartsComputedByHand) {
  const std::string part1(5 * kMiB, 'a');
  const std::string part2 = "b";
  const Md5Digest md5_1 = Md5Of(part1);
  const Md5Digest md5_2 = Md5Of(part2);
  // MD5 of the 32 raw bytes, then "-2".
  std::string concatenated(reinterpret_cast<const char*>(md5_1.data()), md5_1.size());
  concatenated.append(reinterpret_cast<const char*>(md5_2.data()), md5_2.size());
  const std::string expected = Md5Hex(concatenated) + "-2";
  const Md5Digest parts[] = {md5_1, md5_2};
  EXPECT_EQ(MultipartEtag(parts), expected);
  // And against Python's hashlib, computed outside this code base:
  // md5(md5(b"a" * 5 MiB).digest() + md5(b"b").digest()).hexdigest()
  EXPECT_EQ(expected, "e5a8c5272b26fc10581a21089559b006-2");
}

TEST(MultipartEtagTest, PublishedExample) {
  // A worked example quoted in S3 multipart-ETag write-ups: parts with ETags
  // bce6bf66aeb76c7040fdd5f4eccb78e6 and 8165449fc15bbf43d3b674595cbcc406 complete into
  // f77dc0eecdebcd774a2a22cb393ad2ff-2.
  const Md5Digest parts[] = {DigestFromHex("bce6bf66aeb76c7040fdd5f4eccb78e6"),
                             DigestFromHex("8165449fc15bbf43d3b674595cbcc406")};
  EXPECT_EQ(MultipartEtag(parts), "f77dc0eecdebcd774a2a22cb393ad2ff-2");
}

TEST(MultipartEtagTest, OnePartIsNotThePlainMd5) {
  // A one-part multipart upload of the empty string: md5(md5("")) + "-1", not md5("").
  const Md5Digest parts[] = {Md5Of("")};
  EXPECT_EQ(MultipartEtag(parts), "59adb24ef3cdbe0297f05b395827453f-1");
}

TEST(ParseEtagTest, MultipartAndSinglePart) {
  ASSERT_OK_AND_ASSIGN(ParsedEtag multi, ParseEtag("\"f77dc0eecdebcd774a2a22cb393ad2ff-2\""));
  EXPECT_EQ(multi.md5_hex, "f77dc0eecdebcd774a2a22cb393ad2ff");
  EXPECT_EQ(multi.part_count, 2);
  ASSERT_OK_AND_ASSIGN(ParsedEtag single, ParseEtag("D41D8CD98F00B204E9800998ECF8427E"));
  EXPECT_EQ(single.md5_hex, "d41d8cd98f00b204e9800998ecf8427e");  // lower-cased
  EXPECT_EQ(single.part_count, 0);
  ASSERT_OK_AND_ASSIGN(ParsedEtag most, ParseEtag("\"f77dc0eecdebcd774a2a22cb393ad2ff-10000\""));
  EXPECT_EQ(most.part_count, 10000);
}

TEST(ParseEtagTest, RoundTripsMultipartEtag) {
  const Md5Digest parts[] = {Md5Of("x"), Md5Of("y"), Md5Of("z")};
  const std::string etag = MultipartEtag(parts);
  ASSERT_OK_AND_ASSIGN(ParsedEtag parsed, ParseEtag("\"" + etag + "\""));
  EXPECT_EQ(parsed.md5_hex + "-" + std::to_string(parsed.part_count), etag);
}

TEST(ParseEtagTest, RejectsMalformed) {
  for (std::string_view bad : {
           "",
           "\"\"",
           "W/\"d41d8cd98f00b204e9800998ecf8427e\"",
           "d41d8cd98f00b204e9800998ecf8427",    // 31 digits
           "d41d8cd98f00b204e9800998ecf8427e0",  // 33
           "d41d8cd98f00b204e9800998ecf8427g",
           "d41d8cd98f00b204e9800998ecf8427e-",
           "d41d8cd98f00b204e9800998ecf8427e-0",
           "d41d8cd98f00b204e9800998ecf8427e-01",
           "d41d8cd98f00b204e9800998ecf8427e-2x",
           "d41d8cd98f00b204e9800998ecf8427e-1234567890",  // would overflow an int
           "\"d41d8cd98f00b204e9800998ecf8427e",
       }) {
    EXPECT_THAT(ParseEtag(bad), StatusIs(StatusCode::kInvalidArgument, HasSubstr("not an S3 ETag")))
        << bad;
  }
}

}  // namespace
}  // namespace cairn::objstore
