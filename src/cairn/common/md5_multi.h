// Multi-buffer MD5: the MD5s of many independent inputs computed together, one input per 32-bit
// SIMD lane (16 lanes with AVX-512, 8 with AVX2). One MD5 stream is strictly serial (~1.24 ns/B
// with OpenSSL); independent streams side by side in one core's vector registers are not, so the
// aggregate rate is several times higher. Each lane still advances at a fraction of the core's
// rate: this raises throughput, not the latency of one hash.
//
// The kernel is chosen at run time from the CPU (`__builtin_cpu_supports`); the kernels are
// compiled with function-level target attributes, so callers need no -m flags.
//
//   std::vector<std::string_view> parts = ...;
//   std::vector<Md5Digest> digests(parts.size());
//   Md5Many(parts, digests);
//
// Thread safety: the free functions are thread-safe. An Md5Lanes object is not; use one per
// thread (or guard it).
#ifndef CAIRN_COMMON_MD5_MULTI_H_
#define CAIRN_COMMON_MD5_MULTI_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "cairn/common/hash.h"

namespace cairn {

// The implementations behind Md5Many and Md5Lanes.
enum class Md5Kernel {
  kScalar,  // Md5Many: OpenSSL, one input after another; Md5Lanes: portable C, one lane at a time
  kAvx2x8,  // 8 lanes of 32 bits in AVX2 registers
  kAvx512x16,  // 16 lanes in AVX-512 registers, vpternlogd and vprold
};

// "scalar", "avx2x8" or "avx512x16".
std::string_view Md5KernelName(Md5Kernel kernel);
// Whether this CPU can run `kernel` (kScalar always).
bool Md5KernelSupported(Md5Kernel kernel);
// The fastest kernel this CPU supports.
Md5Kernel Md5BestKernel();
// The name of the kernel Md5Many uses here (for benchmarks and --version output).
std::string_view Md5ManyKernel();

// Hashes independent inputs together in SIMD lanes; out[i] = MD5(inputs[i]).
// Inputs may differ in length (lanes that finish early are refilled from the remaining inputs).
// REQUIRES: out.size() >= inputs.size().
void Md5Many(std::span<const std::string_view> inputs, std::span<Md5Digest> out);

// Md5Many with a given kernel (tests and benchmarks); a kernel this CPU does not support falls
// back to kScalar.
void Md5ManyWith(Md5Kernel kernel, std::span<const std::string_view> inputs,
                 std::span<Md5Digest> out);

struct Md5LanesOptions {
  // A lane is ready once it buffers this much; a full SIMD group of ready lanes (16 or 8, or all
  // lanes when there are fewer) hashes its common whole blocks together. 16 KiB = 256 blocks per
  // kernel call, so the call overhead is negligible.
  size_t batch_bytes = size_t{16} << 10;
  // A lane holding more than this hashes its whole blocks without waiting for slower lanes (at
  // lower SIMD efficiency), which bounds the memory a stalled lane can make the others hold.
  size_t max_buffered_per_lane = size_t{4} << 20;
  // Which kernel to run; unsupported ones fall back to kScalar.
  Md5Kernel kernel = Md5BestKernel();
};

// Streaming multi-buffer MD5: `lanes` independent MD5 computations fed in pieces. Update copies
// the bytes into the lane's buffer; whole 64-byte blocks are hashed, a SIMD group of lanes
// together, once a group's worth of lanes each have `batch_bytes` buffered, or, for every lane,
// as soon as one lane holds more than `max_buffered_per_lane`. So the object holds at most about
// lanes * (max_buffered_per_lane + the largest single Update) bytes, plus 16 bytes of state per
// lane; buffers keep their capacity for reuse until the object is destroyed.
//
//   Md5Lanes md5(16);
//   for (each received chunk) md5.Update(stream_index, chunk);
//   Md5Digest digest = md5.Finish(stream_index);  // the lane is then ready for a new message
//
// Thread safety: not thread-safe. The object owns copies of the bytes it is given.
class Md5Lanes {
 public:
  // REQUIRES: lanes >= 1.
  explicit Md5Lanes(size_t lanes);
  Md5Lanes(size_t lanes, const Md5LanesOptions& options);
  Md5Lanes(const Md5Lanes&) = delete;
  Md5Lanes& operator=(const Md5Lanes&) = delete;
  ~Md5Lanes();

  size_t lanes() const { return lanes_.size(); }
  // The kernel in use (kScalar when the one asked for is not supported here).
  Md5Kernel kernel() const { return kernel_; }

  // Appends `data` to the message of `lane`. REQUIRES: lane < lanes().
  void Update(size_t lane, std::string_view data);
  // Appends pieces[i] to the message of lane i, for every i (empty pieces are allowed), and
  // hashes every whole block before returning: the pieces' blocks are read where they are, not
  // copied, with the lanes' SIMD groups together; only what does not fill a block (< 64 bytes per
  // lane) is kept. The fastest way to feed lanes that receive data at the same pace: give each
  // lane of a group a piece of the same size. REQUIRES: pieces.size() <= lanes().
  void UpdateEach(std::span<const std::string_view> pieces);
  // The MD5 of everything given to `lane` since its last Finish (or construction); resets the
  // lane. Hashes what the lane still buffers on its own. REQUIRES: lane < lanes().
  Md5Digest Finish(size_t lane);

  // Bytes copied in and not yet hashed, over all lanes.
  size_t buffered_bytes() const;

 private:
  struct Lane {
    std::vector<uint8_t> buffer;  // bytes not yet hashed
    uint64_t total = 0;           // message length so far (MD5 counts it mod 2^64 bits)
    uint32_t state[4] = {};       // a, b, c, d
  };

  // Runs blocks[i] whole blocks from data[i] through the state of lane ids[i], a SIMD group of
  // lanes at a time.
  void HashRuns(std::span<const size_t> ids, std::span<const uint8_t* const> data,
                std::span<const size_t> blocks);
  // HashRuns from the front of the lanes' buffers, then drops those bytes from the buffers.
  void HashBlocks(std::span<const size_t> ids, std::span<const size_t> blocks);
  // Hashes the common whole blocks of each full SIMD group of ready lanes.
  void MaybeHashBatch();
  // Hashes every whole block of every lane.
  void HashAllWholeBlocks();

  Md5Kernel kernel_;
  Md5LanesOptions options_;
  std::vector<Lane> lanes_;
};

}  // namespace cairn

#endif  // CAIRN_COMMON_MD5_MULTI_H_
