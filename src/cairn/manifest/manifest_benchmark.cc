// Parse, normalize and PDH of a manifest of 1,000,000 files (~100 MB), and MD5 of the same bytes
// for scale: MD5 is the floor of PDH, and the ratio to it is what bench/run.sh reports.
//
// The manifest is the shape `cairn put` writes for a big run: 1,000 directories of 1,000 files,
// small files packed into 64 MiB blocks, long sequencing-style names (~100 bytes a file).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>

#include "cairn/common/hash.h"
#include "cairn/manifest/manifest.h"
#include "cairn/manifest/pdh.h"

namespace cairn::manifest {
namespace {

constexpr int kFiles = 1'000'000;
constexpr int kFilesPerDirectory = 1'000;

std::string MakeManifest(int files) {
  std::mt19937_64 rng(42);
  std::string text;
  text.reserve(static_cast<size_t>(files) * 110);
  for (int d = 0; d * kFilesPerDirectory < files; ++d) {
    std::vector<uint64_t> sizes;
    uint64_t total = 0;
    for (int i = 0; i < kFilesPerDirectory && d * kFilesPerDirectory + i < files; ++i) {
      sizes.push_back(1 + rng() % 400'000);
      total += sizes.back();
    }
    char stream[96];
    std::snprintf(stream, sizeof(stream), "./project_alpha/run_2026_11_%02d/batch_%05d", d % 30 + 1,
                  d);
    text += stream;
    for (uint64_t left = total, b = 0; left > 0; ++b) {
      uint64_t size = std::min<uint64_t>(left, kMaxBlockSize);
      text += ' ';
      text += Md5Hex(std::to_string(d) + "/" + std::to_string(b));
      text += '+';
      text += std::to_string(size);
      left -= size;
    }
    uint64_t pos = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      char token[160];
      std::snprintf(token, sizeof(token),
                    " %llu:%llu:sample_%05d_%04zu_S%zu_L00%zu_R%zu_001.trimmed.sorted.dedup."
                    "realigned.recal.fastq.gz",
                    static_cast<unsigned long long>(pos), static_cast<unsigned long long>(sizes[i]),
                    d, i, i % 96 + 1, i % 4 + 1, i % 2 + 1);
      text += token;
      pos += sizes[i];
    }
    text += '\n';
  }
  return text;
}

const std::string& BigManifest() {
  static const std::string text = MakeManifest(kFiles);
  return text;
}

void SetBytes(benchmark::State& state, size_t bytes) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(bytes));
  state.counters["files"] = kFiles;
}

void BM_Md5OfManifestText(benchmark::State& state) {
  const std::string& text = BigManifest();
  for (auto _ : state) benchmark::DoNotOptimize(Md5Of(text));
  SetBytes(state, text.size());
}
BENCHMARK(BM_Md5OfManifestText)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PortableDataHash(benchmark::State& state) {
  const std::string& text = BigManifest();
  for (auto _ : state) benchmark::DoNotOptimize(PortableDataHash(text));
  SetBytes(state, text.size());
}
BENCHMARK(BM_PortableDataHash)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Parse(benchmark::State& state) {
  const std::string& text = BigManifest();
  for (auto _ : state) {
    Result<Manifest> m = Manifest::Parse(text);
    if (!m.ok()) state.SkipWithError(m.status().ToString().c_str());
    benchmark::DoNotOptimize(m);
  }
  SetBytes(state, text.size());
}
BENCHMARK(BM_Parse)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Normalize(benchmark::State& state) {
  const std::string& text = BigManifest();
  for (auto _ : state) {
    Result<Manifest> m = Manifest::Parse(text);
    if (!m.ok()) state.SkipWithError(m.status().ToString().c_str());
    std::string normalized = m->ToText();
    benchmark::DoNotOptimize(normalized);
  }
  SetBytes(state, text.size());
}
BENCHMARK(BM_Normalize)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace cairn::manifest

BENCHMARK_MAIN();
