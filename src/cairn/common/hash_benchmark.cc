// Hash kernels. Compare with reference/machine-limits.md: on the reference machine `openssl speed`
// gives MD5 ~810 MB/s and SHA-256 ~1900 MB/s per core, so these should land close to that.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cairn/common/hash.h"

namespace cairn {
namespace {

// Keep: a full block is 64 MiB (reference/arvados-keep.md §2.6).
constexpr size_t kBlockSize = size_t{64} << 20;
// A typical read/upload buffer.
constexpr size_t kChunkSize = size_t{1} << 20;

// A filled (not zero-page) 64 MiB buffer, built once and shared by every benchmark.
const std::string& Block() {
  static const std::string block = [] {
    std::string b(kBlockSize, '\0');
    uint32_t x = 2463534242u;
    for (char& c : b) {
      x ^= x << 13;  // xorshift32: cheap non-repeating filler
      x ^= x >> 17;
      x ^= x << 5;
      c = static_cast<char>(x);
    }
    return b;
  }();
  return block;
}

void BM_Md5Block(benchmark::State& state) {
  const std::string& block = Block();
  for (auto _ : state) benchmark::DoNotOptimize(Md5Of(block));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(block.size()));
}
BENCHMARK(BM_Md5Block)->Unit(benchmark::kMillisecond);

void BM_Md5Streaming1MiB(benchmark::State& state) {
  const std::string_view block = Block();
  Md5 md5;
  for (auto _ : state) {
    for (size_t pos = 0; pos < block.size(); pos += kChunkSize) {
      md5.Update(block.substr(pos, kChunkSize));
    }
    benchmark::DoNotOptimize(md5.Finish());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(block.size()));
}
BENCHMARK(BM_Md5Streaming1MiB)->Unit(benchmark::kMillisecond);

void BM_Sha256Block(benchmark::State& state) {
  const std::string& block = Block();
  for (auto _ : state) benchmark::DoNotOptimize(Sha256Of(block));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(block.size()));
}
BENCHMARK(BM_Sha256Block)->Unit(benchmark::kMillisecond);

void BM_HmacSha1KeepSignature(benchmark::State& state) {
  // The shape of a Keep permission signature: a ~400-byte key and a ~100-byte message
  // (reference/arvados-keep.md §4.2).
  const std::string key(397, 'k');
  const std::string message =
      "acbd18db4cc2f85cedef654fccc4a4d8@hocfupkn2pjhrpgp2vxv8rsku7tvtx49arbc9s4bvu7p7wxqvk"
      "@7fffffff@127500";
  for (auto _ : state) benchmark::DoNotOptimize(HmacSha1(key, message));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_HmacSha1KeepSignature);

}  // namespace
}  // namespace cairn

BENCHMARK_MAIN();
