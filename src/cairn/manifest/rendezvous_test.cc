#include "cairn/manifest/rendezvous.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "cairn/common/hash.h"

namespace cairn::manifest {
namespace {

using ::testing::ElementsAre;

// Service uuids "zzzzz-bi6l4-%015x" for j = 0..n-1, as the Python and Go test fixtures.
std::vector<std::string> Services(int n) {
  std::vector<std::string> uuids;
  for (int j = 0; j < n; ++j) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "zzzzz-bi6l4-%015x", j);
    uuids.push_back(buf);
  }
  return uuids;
}

// md5 of the 64-character text "%064x" of i: the blocks of the reference table.
std::string BlockHashOf(int i) {
  char buf[80];
  std::snprintf(buf, sizeof buf, "%064x", i);
  return Md5Hex(buf);
}

// The order as a string of hex digits of j, the form the reference table uses.
std::string AsHexDigits(const std::vector<size_t>& order) {
  std::string out;
  for (size_t j : order) out.push_back("0123456789abcdef"[j]);
  return out;
}

// arvados-keep.md §5.3 (sdk/python/tests/test_keep_client.py KeepClientRendezvousTestCase).
TEST(RendezvousTest, ReferenceTable) {
  const std::vector<std::string> services = Services(16);
  const struct {
    const char* hash;
    const char* order;
  } kTable[] = {
      {"10eab6008d5642cf42abd2aa41f847cb", "3eab2d5fc9681074"},
      {"9a25b027482b37e047104e2e532cabae", "097dba52e648f1c3"},
      {"ece15765f11abfb7d3c71995a3d63bfe", "c5b4e023f8a7d691"},
      {"0c1728e2354416472350c906ca8b5718", "9d81c02e76a3bf54"},
  };
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(BlockHashOf(i), kTable[i].hash);
    EXPECT_EQ(AsHexDigits(RendezvousOrder(kTable[i].hash, services)), kTable[i].order);
  }
  // The worked example: the highest weight for block 0 is that of service ...003.
  EXPECT_EQ(Md5Hex("10eab6008d5642cf42abd2aa41f847cb000000000000003"),
            "ff26216156807110ed4a26106b1804ba");
}

TEST(RendezvousTest, FooOrder) {
  EXPECT_EQ(AsHexDigits(RendezvousOrder(Md5Hex("foo"), Services(16))), "c7390e5a4bd2f168");
}

// test_probe_waste_adding_one_server: adding k services to 12 moves a block's first choice by at
// most k places, and on average by about k/12 of the blocks (within -20% .. +(20-k)%).
TEST(RendezvousTest, ProbeWasteAddingServers) {
  constexpr int kInitial = 12;
  constexpr int kBlocks = 100;
  std::vector<std::string> hashes;
  for (int i = 0; i < kBlocks; ++i) hashes.push_back(BlockHashOf(i));
  const std::vector<std::string> before_services = Services(kInitial);
  std::vector<size_t> first_before;
  for (const std::string& h : hashes)
    first_before.push_back(RendezvousOrder(h, before_services)[0]);

  for (int added = 1; added < 12; ++added) {
    SCOPED_TRACE(added);
    const std::vector<std::string> after_services = Services(kInitial + added);
    int total_penalty = 0;
    for (int i = 0; i < kBlocks; ++i) {
      std::vector<size_t> after = RendezvousOrder(hashes[i], after_services);
      // Services keep their index (the new ones are appended), so indexes compare directly.
      int penalty =
          static_cast<int>(std::find(after.begin(), after.end(), first_before[i]) - after.begin());
      EXPECT_LE(penalty, added);
      total_penalty += penalty;
    }
    double expect_penalty = static_cast<double>(added) * kBlocks / kInitial;
    EXPECT_GE(total_penalty, expect_penalty * 8 / 10);
    EXPECT_LE(total_penalty, expect_penalty * (120 - added) / 100);
  }
}

TEST(RendezvousTest, UsesLast15CharactersOfAnyUuid) {
  const std::string h = Md5Hex("foo");
  // Only the last 15 characters count, so these weigh alike and keep index order.
  std::vector<std::string> same = {"zzzzz-bi6l4-000000000000003", "aaaaa-bi6l4-000000000000003",
                                   "x000000000000003", "000000000000003"};
  EXPECT_THAT(RendezvousOrder(h, same), ElementsAre(0, 1, 2, 3));
  // Shorter uuids are used whole.
  std::vector<std::string> shorts = {"a", "b", "c"};
  std::vector<size_t> order = RendezvousOrder(h, shorts);
  std::vector<std::string> weights;
  for (size_t j : order) weights.push_back(Md5Hex(h + shorts[j]));
  EXPECT_TRUE(std::is_sorted(weights.rbegin(), weights.rend()));
  EXPECT_TRUE(RendezvousOrder(h, {}).empty());
}

TEST(RendezvousTest, VolumeOrderIsAscendingOnUuidWithoutPrefix) {
  const std::string h = BlockHashOf(0);
  std::vector<std::string> volumes = Services(16);
  for (std::string& v : volumes) v.replace(6, 5, "nyw5e");
  // Same uuidparts as the services, opposite direction: the reverse of the client order.
  std::string reversed = "3eab2d5fc9681074";
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(AsHexDigits(VolumeOrder(h, volumes)), reversed);

  // A uuid that is not 27 characters long is hashed whole.
  std::vector<std::string> odd = {"volume-one", "volume-two", "x"};
  std::vector<size_t> order = VolumeOrder(h, odd);
  std::vector<std::string> weights;
  for (size_t j : order) weights.push_back(Md5Hex(h + odd[j]));
  EXPECT_TRUE(std::is_sorted(weights.begin(), weights.end()));
  // Ties (duplicates) keep index order.
  std::vector<std::string> dup = {"zzzzz-nyw5e-000000000000001", "yyyyy-nyw5e-000000000000001"};
  EXPECT_THAT(VolumeOrder(h, dup), ElementsAre(0, 1));
}

}  // namespace
}  // namespace cairn::manifest
