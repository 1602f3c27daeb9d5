#include "cairn/common/hash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn {
namespace {

// 1 MiB of a fixed pattern; its digests below were computed with Python's hashlib.
std::string PatternBuffer() {
  std::string buffer(1 << 20, '\0');
  for (size_t i = 0; i < buffer.size(); ++i) {
    buffer[i] = static_cast<char>(((i * 131 + 7) ^ (i >> 11)) & 0xff);
  }
  return buffer;
}
constexpr char kPatternMd5[] = "418307a558b39b97d189ee70586da2c9";
constexpr char kPatternSha256[] =
    "2847d395889ff2adce49cbbcd02ad706af480d88e10a8aa45078791e380f81a4";

// Chunk sizes that straddle the 64-byte block boundary in every way, cycling until done.
constexpr size_t kOddChunks[] = {1, 3, 63, 64, 65, 127, 1000, 4095, 7, 65537};

template <typename Hasher>
auto HashInOddChunks(std::string_view data) {
  Hasher hasher;
  size_t pos = 0;
  for (size_t i = 0; pos < data.size(); ++i) {
    size_t n = std::min(kOddChunks[i % std::size(kOddChunks)], data.size() - pos);
    hasher.Update(data.substr(pos, n));
    pos += n;
  }
  return hasher.Finish();
}

std::string Repeat(char c, size_t n) { return std::string(n, c); }

TEST(HexTest, EncodesLowercase) {
  const uint8_t bytes[] = {0x00, 0x0f, 0xa5, 0xff};
  EXPECT_EQ(HexEncode(bytes), "000fa5ff");
  EXPECT_EQ(HexEncode({}), "");
  std::string out = "x=";
  AppendHex(bytes, &out);
  EXPECT_EQ(out, "x=000fa5ff");
}

TEST(Md5Test, KnownVectors) {
  // RFC 1321 appendix A.5.
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Md5Hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  // Keep block ids (reference/arvados-keep.md §3).
  EXPECT_EQ(Md5Hex("foo"), "acbd18db4cc2f85cedef654fccc4a4d8");
  EXPECT_EQ(HexEncode(Md5Of("abc")), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(Md5Test, StreamingEmptyAndAbc) {
  Md5 md5;
  EXPECT_EQ(HexEncode(md5.Finish()), "d41d8cd98f00b204e9800998ecf8427e");
  md5.Update("a");
  md5.Update("");
  md5.Update("bc", 2);
  EXPECT_EQ(HexEncode(md5.Finish()), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(Md5Test, FinishResetsForReuse) {
  Md5 md5;
  md5.Update("garbage that must not leak into the next message");
  md5.Finish();
  md5.Update("abc");
  EXPECT_EQ(HexEncode(md5.Finish()), "900150983cd24fb0d6963f7d28e17f72");
}

TEST(Md5Test, OneMebibyteInOddChunksMatchesOneShot) {
  const std::string buffer = PatternBuffer();
  EXPECT_EQ(Md5Hex(buffer), kPatternMd5);
  EXPECT_EQ(HexEncode(HashInOddChunks<Md5>(buffer)), kPatternMd5);
}

TEST(Sha256Test, KnownVectors) {
  // FIPS 180-2 appendix B.
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(HexEncode(Sha256Of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, StreamingAndReuse) {
  Sha256 sha;
  EXPECT_EQ(HexEncode(sha.Finish()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  sha.Update("ab");
  sha.Update("c", 1);
  EXPECT_EQ(HexEncode(sha.Finish()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, OneMebibyteInOddChunksMatchesOneShot) {
  const std::string buffer = PatternBuffer();
  EXPECT_EQ(Sha256Hex(buffer), kPatternSha256);
  EXPECT_EQ(HexEncode(HashInOddChunks<Sha256>(buffer)), kPatternSha256);
}

struct HmacCase {
  const char* name;
  std::string key;
  std::string message;
  const char* hex;  // for truncated cases, a prefix of the full MAC
};

std::string Bytes1To25() {
  std::string key;
  for (int i = 1; i <= 25; ++i) key.push_back(static_cast<char>(i));
  return key;
}

// RFC 2202 §3, test cases 1-7.
std::vector<HmacCase> Rfc2202Cases() {
  return {
      {"1", Repeat('\x0b', 20), "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00"},
      {"2", "Jefe", "what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
      {"3", Repeat('\xaa', 20), Repeat('\xdd', 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
      {"4", Bytes1To25(), Repeat('\xcd', 50), "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
      {"5", Repeat('\x0c', 20), "Test With Truncation", "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"},
      {"6", Repeat('\xaa', 80), "Test Using Larger Than Block-Size Key - Hash Key First",
       "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
      {"7", Repeat('\xaa', 80),
       "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
       "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
  };
}

// RFC 4231 §4.2-4.8, test cases 1-7 (case 5 checks the 128-bit truncation only).
std::vector<HmacCase> Rfc4231Cases() {
  return {
      {"1", Repeat('\x0b', 20), "Hi There",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"2", "Jefe", "what do ya want for nothing?",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {"3", Repeat('\xaa', 20), Repeat('\xdd', 50),
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {"4", Bytes1To25(), Repeat('\xcd', 50),
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
      {"5", Repeat('\x0c', 20), "Test With Truncation", "a3b6167473100ee06e0c796c2955552b"},
      {"6", Repeat('\xaa', 131), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {"7", Repeat('\xaa', 131),
       "This is a test using a larger than block-size key and a larger than block-size data. "
       "The key needs to be hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
}

TEST(HmacTest, Rfc2202HmacSha1) {
  for (const HmacCase& c : Rfc2202Cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(HexEncode(HmacSha1(c.key, c.message)), c.hex);
  }
}

TEST(HmacTest, Rfc4231HmacSha256) {
  for (const HmacCase& c : Rfc4231Cases()) {
    SCOPED_TRACE(c.name);
    std::string mac = HexEncode(HmacSha256(c.key, c.message));
    EXPECT_EQ(mac.substr(0, std::string_view(c.hex).size()), c.hex);
  }
}

// reference/arvados-keep.md §4.2 (from sdk/go/arvados/blob_signature_test.go).
constexpr char kKeepBlobSigningKey[] =
    "13u9fkuccnboeewr0ne3mvapk28epf68a3bhj9q8sb4l6e4e5mkkp6nhj2mmpscgu1zze5h5enydxfe3j215024u16ij4"
    "hjaiqs5u4pzsl3nczmaoxncljkm4875xqn4xv058koz3vkptmzhyheiy6wzevzjmdvxhvcqsvr5abhl15c2d4o4jhl0s9"
    "1lojy1mtrzqqvprqcverls0xvy9vai9t1l1lvvazpuadafm71jl4mrwq2ygokee3eamvjy8qq1fvy238838enjmy5wzy"
    "2md7yvsitp5vztft6j4q866efym7e6vu5wm9fpnwjyxfldw3vbo01mgjs75rgo7qioh8z8ij7jpyp8508okhgbbex3ce"
    "ei786u5rw2a9gx743dj3fgq2irk";

TEST(HmacTest, KeepPermissionSignature) {
  ASSERT_EQ(std::string_view(kKeepBlobSigningKey).size(), 397u);
  const std::string message =
      "acbd18db4cc2f85cedef654fccc4a4d8@hocfupkn2pjhrpgp2vxv8rsku7tvtx49arbc9s4bvu7p7wxqvk"
      "@7fffffff@127500";
  EXPECT_EQ(HexEncode(HmacSha1(kKeepBlobSigningKey, message)),
            "89118b78732c33104a4d6231e8b5a5fa1e4301e3");
}

TEST(HmacTest, EmptyKeyAndMessage) {
  // Python: hmac.new(b"", b"", hashlib.sha1 / hashlib.sha256).hexdigest()
  EXPECT_EQ(HexEncode(HmacSha1("", "")), "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d");
  EXPECT_EQ(HexEncode(HmacSha256("", "")),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(ConstantTimeEqualsTest, ComparesContentAndSize) {
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_TRUE(ConstantTimeEquals("89118b78", "89118b78"));
  EXPECT_FALSE(ConstantTimeEquals("89118b78", "89118b79"));
  EXPECT_FALSE(ConstantTimeEquals("89118b78", "89118b7"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
}

}  // namespace
}  // namespace cairn
