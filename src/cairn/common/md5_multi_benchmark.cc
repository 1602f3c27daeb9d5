// Multi-buffer MD5 against OpenSSL's single-stream MD5 on the same bytes: 16 independent buffers
// of 8 MiB (a typical S3 part) and of 64 MiB (a full Keep block). reference/machine-limits.md:
// OpenSSL MD5 is ~810 MB/s per core here; libipsec-mb's AVX2 16-lane HMAC-MD5 reached 4.7 GB/s.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cairn/common/hash.h"
#include "cairn/common/md5_multi.h"

namespace cairn {
namespace {

constexpr size_t kBuffers = 16;
constexpr size_t kMaxBufferSize = size_t{64} << 20;  // Keep: blocks are at most 64 MiB

// 16 x 64 MiB of filler (not zero pages), built once; each benchmark uses a prefix of each.
const std::string& Pool() {
  static const std::string pool = [] {
    std::string b(kBuffers * kMaxBufferSize, '\0');
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < b.size(); i += 8) {
      x ^= x << 13;  // xorshift64: cheap non-repeating filler
      x ^= x >> 7;
      x ^= x << 17;
      for (size_t j = 0; j < 8; ++j) b[i + j] = static_cast<char>(x >> (8 * j));
    }
    return b;
  }();
  return pool;
}

std::vector<std::string_view> Buffers(size_t size) {
  std::vector<std::string_view> buffers;
  for (size_t i = 0; i < kBuffers; ++i) {
    buffers.push_back(std::string_view(Pool()).substr(i * kMaxBufferSize, size));
  }
  return buffers;
}

void SetBytes(benchmark::State& state, size_t per_iteration) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(per_iteration));
}

// range(0): buffer size in MiB; range(1): the Md5Kernel.
void BM_Md5Many(benchmark::State& state) {
  const auto kernel = static_cast<Md5Kernel>(state.range(1));
  if (!Md5KernelSupported(kernel)) {
    state.SkipWithError("kernel not supported on this CPU");
    return;
  }
  const std::vector<std::string_view> buffers = Buffers(static_cast<size_t>(state.range(0)) << 20);
  std::vector<Md5Digest> out(buffers.size());
  for (auto _ : state) {
    Md5ManyWith(kernel, buffers, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(std::string(Md5KernelName(kernel)));
  SetBytes(state, buffers.size() * buffers[0].size());
}

// The kernels' compute rate: 16 x 64 KiB stay in the L2 cache, so memory does not limit it.
void BM_Md5ManyInCache(benchmark::State& state) {
  const auto kernel = static_cast<Md5Kernel>(state.range(0));
  if (!Md5KernelSupported(kernel)) {
    state.SkipWithError("kernel not supported on this CPU");
    return;
  }
  const std::vector<std::string_view> buffers = Buffers(size_t{64} << 10);
  std::vector<Md5Digest> out(buffers.size());
  for (auto _ : state) {
    Md5ManyWith(kernel, buffers, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetLabel(std::string(Md5KernelName(kernel)));
  SetBytes(state, buffers.size() * buffers[0].size());
}
BENCHMARK(BM_Md5ManyInCache)
    ->Arg(static_cast<int64_t>(Md5Kernel::kScalar))
    ->Arg(static_cast<int64_t>(Md5Kernel::kAvx2x8))
    ->Arg(static_cast<int64_t>(Md5Kernel::kAvx512x16));

// The baseline: OpenSSL Md5Of on each buffer, one after another.
void BM_OpenSslMd5OneAfterAnother(benchmark::State& state) {
  const std::vector<std::string_view> buffers = Buffers(static_cast<size_t>(state.range(0)) << 20);
  for (auto _ : state) {
    for (std::string_view buffer : buffers) benchmark::DoNotOptimize(Md5Of(buffer));
  }
  SetBytes(state, buffers.size() * buffers[0].size());
}

// Streaming: 16 lanes fed 1 MiB pieces round robin, as a transfer engine receives them.
void BM_Md5Lanes1MiBPieces(benchmark::State& state) {
  const auto kernel = static_cast<Md5Kernel>(state.range(1));
  if (!Md5KernelSupported(kernel)) {
    state.SkipWithError("kernel not supported on this CPU");
    return;
  }
  const size_t size = static_cast<size_t>(state.range(0)) << 20;
  constexpr size_t kPiece = size_t{1} << 20;
  const std::vector<std::string_view> buffers = Buffers(size);
  Md5LanesOptions options;
  options.kernel = kernel;
  Md5Lanes md5(kBuffers, options);
  for (auto _ : state) {
    for (size_t pos = 0; pos < size; pos += kPiece) {
      for (size_t lane = 0; lane < kBuffers; ++lane)
        md5.Update(lane, buffers[lane].substr(pos, kPiece));
    }
    for (size_t lane = 0; lane < kBuffers; ++lane) benchmark::DoNotOptimize(md5.Finish(lane));
  }
  state.SetLabel(std::string(Md5KernelName(kernel)));
  SetBytes(state, kBuffers * size);
}

// The same through UpdateEach: the pieces are hashed where they are.
void BM_Md5LanesUpdateEach1MiB(benchmark::State& state) {
  const auto kernel = static_cast<Md5Kernel>(state.range(1));
  if (!Md5KernelSupported(kernel)) {
    state.SkipWithError("kernel not supported on this CPU");
    return;
  }
  const size_t size = static_cast<size_t>(state.range(0)) << 20;
  constexpr size_t kPiece = size_t{1} << 20;
  const std::vector<std::string_view> buffers = Buffers(size);
  Md5LanesOptions options;
  options.kernel = kernel;
  Md5Lanes md5(kBuffers, options);
  std::vector<std::string_view> pieces(kBuffers);
  for (auto _ : state) {
    for (size_t pos = 0; pos < size; pos += kPiece) {
      for (size_t lane = 0; lane < kBuffers; ++lane)
        pieces[lane] = buffers[lane].substr(pos, kPiece);
      md5.UpdateEach(pieces);
    }
    for (size_t lane = 0; lane < kBuffers; ++lane) benchmark::DoNotOptimize(md5.Finish(lane));
  }
  state.SetLabel(std::string(Md5KernelName(kernel)));
  SetBytes(state, kBuffers * size);
}

void KernelArgs(benchmark::internal::Benchmark* b) {
  for (int64_t mib : {8, 64}) {
    for (Md5Kernel k : {Md5Kernel::kScalar, Md5Kernel::kAvx2x8, Md5Kernel::kAvx512x16}) {
      b->Args({mib, static_cast<int64_t>(k)});
    }
  }
}

BENCHMARK(BM_Md5Many)->Apply(KernelArgs)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_OpenSslMd5OneAfterAnother)
    ->Arg(8)
    ->Arg(64)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Md5Lanes1MiBPieces)
    ->Args({8, static_cast<int64_t>(Md5Kernel::kAvx2x8)})
    ->Args({8, static_cast<int64_t>(Md5Kernel::kAvx512x16)})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Md5LanesUpdateEach1MiB)
    ->Args({8, static_cast<int64_t>(Md5Kernel::kAvx2x8)})
    ->Args({8, static_cast<int64_t>(Md5Kernel::kAvx512x16)})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace cairn

BENCHMARK_MAIN();
