#include "cairn/common/md5_multi.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/common/hash.h"

namespace cairn {
namespace {

// RFC 1321 appendix A.5: the whole test suite.
struct Vector {
  std::string_view input;
  std::string_view md5;
};
constexpr Vector kRfc1321[] = {
    {"", "d41d8cd98f00b204e9800998ecf8427e"},
    {"a", "0cc175b9c0f1b6a831c399e269772661"},
    {"abc", "900150983cd24fb0d6963f7d28e17f72"},
    {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
    {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
    {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "d174ab98d277d9f5a5611c2c9f419d9f"},
    {"12345678901234567890123456789012345678901234567890123456789012345678901234567890",
     "57edf4a22be3c955ac49da2e2107b67a"},
};

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::vector<Md5Digest> Hash(Md5Kernel kernel, const std::vector<std::string_view>& inputs) {
  std::vector<Md5Digest> out(inputs.size());
  Md5ManyWith(kernel, inputs, out);
  return out;
}

// Every digest against OpenSSL's single-stream MD5.
void ExpectMatchesOpenSsl(Md5Kernel kernel, const std::vector<std::string_view>& inputs) {
  const std::vector<Md5Digest> out = Hash(kernel, inputs);
  for (size_t i = 0; i < inputs.size(); ++i) {
    ASSERT_EQ(HexEncode(out[i]), HexEncode(Md5Of(inputs[i])))
        << "input " << i << " of " << inputs.size() << ", " << inputs[i].size() << " bytes";
  }
}

class Md5ManyTest : public ::testing::TestWithParam<Md5Kernel> {
 protected:
  void SetUp() override {
    if (!Md5KernelSupported(GetParam())) GTEST_SKIP() << "CPU lacks " << Md5KernelName(GetParam());
  }
  Md5Kernel kernel() const { return GetParam(); }
  std::mt19937_64 rng_{20261122};
};

TEST_P(Md5ManyTest, Rfc1321VectorsInEveryLane) {
  for (const Vector& v : kRfc1321) {
    // 16 copies fill every lane of every kernel; 17 make one lane take a second input.
    for (size_t copies : {size_t{1}, size_t{16}, size_t{17}}) {
      std::vector<std::string_view> inputs(copies, v.input);
      for (const Md5Digest& digest : Hash(kernel(), inputs)) {
        EXPECT_EQ(HexEncode(digest), v.md5) << "\"" << v.input << "\" x" << copies;
      }
    }
  }
  // All of them together, several rounds, so each vector lands in several lanes.
  std::vector<std::string_view> inputs;
  for (int round = 0; round < 5; ++round) {
    for (const Vector& v : kRfc1321) inputs.push_back(v.input);
  }
  const std::vector<Md5Digest> out = Hash(kernel(), inputs);
  for (size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(HexEncode(out[i]), kRfc1321[i % std::size(kRfc1321)].md5) << i;
  }
}

TEST_P(Md5ManyTest, EveryLengthAroundBlockAndPaddingEdges) {
  for (size_t length : {0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 121, 127, 128, 129, 1000, 4109}) {
    std::vector<std::string> data;
    for (int i = 0; i < 16; ++i) data.push_back(RandomBytes(rng_, length));
    ExpectMatchesOpenSsl(kernel(), {data.begin(), data.end()});
  }
}

TEST_P(Md5ManyTest, MixedLengthsMoreInputsThanLanes) {
  std::vector<std::string> data;
  std::uniform_int_distribution<size_t> length(0, 20000);
  for (int i = 0; i < 101; ++i) data.push_back(RandomBytes(rng_, i % 10 == 0 ? i : length(rng_)));
  ExpectMatchesOpenSsl(kernel(), {data.begin(), data.end()});
}

TEST_P(Md5ManyTest, LargeInputsOfDifferentLengths) {
  // One lane runs much longer than the rest; others finish and the lanes go idle.
  const std::string big = RandomBytes(rng_, (size_t{3} << 20) + 5);
  std::vector<std::string_view> inputs;
  for (size_t i = 0; i < 9; ++i) inputs.push_back(std::string_view(big).substr(i * 977));
  inputs.push_back(std::string_view(big).substr(0, 100));
  ExpectMatchesOpenSsl(kernel(), inputs);
}

TEST_P(Md5ManyTest, OneInputAndNone) {
  const std::string data = RandomBytes(rng_, 100003);
  ExpectMatchesOpenSsl(kernel(), {data});
  ExpectMatchesOpenSsl(kernel(), {std::string_view()});
  std::vector<Md5Digest> out;
  Md5ManyWith(kernel(), {}, out);  // nothing to do, nothing touched
  EXPECT_TRUE(out.empty());
}

TEST_P(Md5ManyTest, UnalignedAndOverlappingInputs) {
  const std::string data = RandomBytes(rng_, 70000);
  std::vector<std::string_view> inputs;
  for (size_t i = 0; i < 40; ++i) inputs.push_back(std::string_view(data).substr(i, 60000 - i * 3));
  ExpectMatchesOpenSsl(kernel(), inputs);
}

TEST_P(Md5ManyTest, StreamingLanesMatchOpenSsl) {
  // 20 lanes (more than any kernel's width) fed random pieces in random order; lanes finish and
  // start new messages at random points. Small batch and buffer limits exercise every path.
  Md5LanesOptions options;
  options.batch_bytes = 256;
  options.max_buffered_per_lane = 4096;
  options.kernel = kernel();
  Md5Lanes md5(20, options);
  EXPECT_EQ(md5.kernel(), kernel());
  std::vector<std::string> sent(md5.lanes());
  std::uniform_int_distribution<size_t> lane_of(0, md5.lanes() - 1), piece(0, 700);
  int finished = 0;
  for (int step = 0; step < 4000; ++step) {
    const size_t lane = lane_of(rng_);
    if (rng_() % 40 == 0) {
      ASSERT_EQ(HexEncode(md5.Finish(lane)), Md5Hex(sent[lane])) << sent[lane].size() << " bytes";
      sent[lane].clear();
      ++finished;
      continue;
    }
    if (rng_() % 8 == 0) {
      // Pieces for a prefix of the lanes, all the same size or not, some empty.
      std::vector<std::string> pieces(1 + lane);
      const size_t same = piece(rng_) * 3;
      for (std::string& p : pieces) p = RandomBytes(rng_, rng_() % 2 ? same : piece(rng_));
      md5.UpdateEach(std::vector<std::string_view>(pieces.begin(), pieces.end()));
      for (size_t i = 0; i < pieces.size(); ++i) sent[i] += pieces[i];
      continue;
    }
    // Lane 0 gets little data, so the others outrun it and hit max_buffered_per_lane.
    const std::string bytes = RandomBytes(rng_, lane == 0 ? piece(rng_) / 50 : piece(rng_));
    md5.Update(lane, bytes);
    sent[lane] += bytes;
    ASSERT_LE(md5.buffered_bytes(), md5.lanes() * (options.max_buffered_per_lane + 700));
  }
  for (size_t lane = 0; lane < md5.lanes(); ++lane) {
    ASSERT_EQ(HexEncode(md5.Finish(lane)), Md5Hex(sent[lane]));
  }
  EXPECT_GT(finished, 50);
  EXPECT_EQ(md5.buffered_bytes(), 0u);
}

TEST_P(Md5ManyTest, UpdateEachHashesWholeBlocksInPlace) {
  Md5LanesOptions options;
  options.kernel = kernel();
  Md5Lanes md5(16, options);
  const std::string data = RandomBytes(rng_, 100000);
  std::vector<std::string_view> pieces;
  for (size_t i = 0; i < 16; ++i) pieces.push_back(std::string_view(data).substr(i, 1000 + i));
  md5.UpdateEach(pieces);
  // Only the bytes that do not fill a block stay: (1000 + i) % 64 for lane i.
  size_t kept = 0;
  for (size_t i = 0; i < 16; ++i) kept += (1000 + i) % 64;
  EXPECT_EQ(md5.buffered_bytes(), kept);
  md5.UpdateEach(pieces);
  for (size_t i = 0; i < 16; ++i) {
    EXPECT_EQ(HexEncode(md5.Finish(i)), Md5Hex(std::string(pieces[i]) + std::string(pieces[i])));
  }
}

TEST_P(Md5ManyTest, StreamingLanesHashOnceEveryLaneHasABatch) {
  Md5LanesOptions options;
  options.kernel = kernel();
  options.batch_bytes = 1024;
  Md5Lanes md5(4, options);
  const std::string data = RandomBytes(rng_, 1000);
  for (size_t lane = 0; lane < 4; ++lane) md5.Update(lane, data);
  EXPECT_EQ(md5.buffered_bytes(), 4000u);  // nobody has a batch yet
  for (size_t lane = 0; lane < 3; ++lane) md5.Update(lane, data);
  if (kernel() == Md5Kernel::kScalar) {
    // One lane is a whole group: each hashes its 31 whole blocks at once, 16 bytes stay.
    EXPECT_EQ(md5.buffered_bytes(), 3u * 16 + 1000);
  } else {
    EXPECT_EQ(md5.buffered_bytes(), 7000u);  // lane 3 holds the group of 4 back
  }
  md5.Update(3, data);
  // 2000 bytes each: 31 common whole blocks are hashed, 16 bytes stay in each lane.
  EXPECT_EQ(md5.buffered_bytes(), 4u * (2000 - 31 * 64));
  const std::string twice = data + data;
  for (size_t lane = 0; lane < 4; ++lane) EXPECT_EQ(HexEncode(md5.Finish(lane)), Md5Hex(twice));
  // A lane never fed (or just finished) is the empty message.
  EXPECT_EQ(HexEncode(md5.Finish(2)), "d41d8cd98f00b204e9800998ecf8427e");
}

INSTANTIATE_TEST_SUITE_P(Kernels, Md5ManyTest,
                         ::testing::Values(Md5Kernel::kScalar, Md5Kernel::kAvx2x8,
                                           Md5Kernel::kAvx512x16),
                         [](const ::testing::TestParamInfo<Md5Kernel>& param) {
                           return std::string(Md5KernelName(param.param));
                         });

TEST(Md5ManyKernelTest, BestKernelIsNamedAndUsed) {
  EXPECT_EQ(Md5ManyKernel(), Md5KernelName(Md5BestKernel()));
  EXPECT_TRUE(Md5KernelSupported(Md5Kernel::kScalar));
  EXPECT_TRUE(Md5KernelSupported(Md5BestKernel()));
  const std::string data(1000, 'x');
  std::vector<std::string_view> inputs(5, data);
  std::vector<Md5Digest> out(5);
  Md5Many(inputs, out);
  for (const Md5Digest& digest : out) EXPECT_EQ(digest, Md5Of(data));
}

}  // namespace
}  // namespace cairn
