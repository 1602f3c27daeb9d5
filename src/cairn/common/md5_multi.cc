// Multi-buffer MD5 (RFC 1321) kernels and the lane scheduling around them.
//
// A kernel hashes `blocks` consecutive 64-byte blocks from each of W pointers, with the W states
// kept "structure of arrays" (state[r * W + lane], r = a, b, c, d), so that register i of the
// state holds word i of every lane. The 16 message words of W blocks are brought into the same
// shape by transposing 16 (or 8) loaded rows with unpack/shuffle instructions (no gathers: they
// are slow on AMD and not faster elsewhere). Padding and the length are done in scalar code into
// a final-block buffer per lane, so kernels only ever see whole blocks.
#include "cairn/common/md5_multi.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_epi32(), which -Wmaybe-uninitialized
// reports wherever they are inlined (GCC bug 105593); the state of the pragma at the header's
// lines is what counts.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif
#define CAIRN_MD5_X86 1
#define CAIRN_TARGET_AVX512 __attribute__((target("avx512f,avx512bw"), always_inline))
#define CAIRN_TARGET_AVX2 __attribute__((target("avx2"), always_inline))
#endif

namespace cairn {
namespace {

using KernelFn = void (*)(uint32_t* state, const uint8_t* const* ptrs, size_t blocks);

constexpr size_t kBlock = 64;
constexpr uint32_t kInit[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};

// RFC 1321 §3.4: K[i] = floor(2^32 * abs(sin(i + 1))).
constexpr uint32_t kMd5K[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

// The 64 steps of RFC 1321 §3.4 on variables a, b, c, d of type Ops::V, message words w[16] and
// constants K[64] (a pointer in scope). Ops::F<s>(a, b, c, d, w, k) is
// a = b + rotl(a + f(b, c, d) + w + k, s), likewise G, H, I.
#define CAIRN_MD5_4(FN, s0, s1, s2, s3, i0, i1, i2, i3, n) \
  Ops::template FN<s0>(a, b, c, d, w[i0], K[n]);           \
  Ops::template FN<s1>(d, a, b, c, w[i1], K[n + 1]);       \
  Ops::template FN<s2>(c, d, a, b, w[i2], K[n + 2]);       \
  Ops::template FN<s3>(b, c, d, a, w[i3], K[n + 3])
#define CAIRN_MD5_64_STEPS                           \
  CAIRN_MD5_4(F, 7, 12, 17, 22, 0, 1, 2, 3, 0);      \
  CAIRN_MD5_4(F, 7, 12, 17, 22, 4, 5, 6, 7, 4);      \
  CAIRN_MD5_4(F, 7, 12, 17, 22, 8, 9, 10, 11, 8);    \
  CAIRN_MD5_4(F, 7, 12, 17, 22, 12, 13, 14, 15, 12); \
  CAIRN_MD5_4(G, 5, 9, 14, 20, 1, 6, 11, 0, 16);     \
  CAIRN_MD5_4(G, 5, 9, 14, 20, 5, 10, 15, 4, 20);    \
  CAIRN_MD5_4(G, 5, 9, 14, 20, 9, 14, 3, 8, 24);     \
  CAIRN_MD5_4(G, 5, 9, 14, 20, 13, 2, 7, 12, 28);    \
  CAIRN_MD5_4(H, 4, 11, 16, 23, 5, 8, 11, 14, 32);   \
  CAIRN_MD5_4(H, 4, 11, 16, 23, 1, 4, 7, 10, 36);    \
  CAIRN_MD5_4(H, 4, 11, 16, 23, 13, 0, 3, 6, 40);    \
  CAIRN_MD5_4(H, 4, 11, 16, 23, 9, 12, 15, 2, 44);   \
  CAIRN_MD5_4(I, 6, 10, 15, 21, 0, 7, 14, 5, 48);    \
  CAIRN_MD5_4(I, 6, 10, 15, 21, 12, 3, 10, 1, 52);   \
  CAIRN_MD5_4(I, 6, 10, 15, 21, 8, 15, 6, 13, 56);   \
  CAIRN_MD5_4(I, 6, 10, 15, 21, 4, 11, 2, 9, 60)

// ---- Portable scalar kernel: one lane (Md5Lanes on CPUs without AVX2). ----

struct ScalarOps {
  using V = uint32_t;
  // t = a + w + k does not depend on b, so it is computed off the b -> b' dependency chain.
  template <int S>
  static void F(V& a, V b, V c, V d, V w, uint32_t k) {
    a = b + std::rotl(a + w + k + (d ^ (b & (c ^ d))), S);
  }
  template <int S>
  static void G(V& a, V b, V c, V d, V w, uint32_t k) {
    a = b + std::rotl(a + w + k + (c ^ (d & (b ^ c))), S);
  }
  template <int S>
  static void H(V& a, V b, V c, V d, V w, uint32_t k) {
    a = b + std::rotl(a + w + k + (b ^ c ^ d), S);
  }
  template <int S>
  static void I(V& a, V b, V c, V d, V w, uint32_t k) {
    a = b + std::rotl(a + w + k + (c ^ (b | ~d)), S);
  }
};

void Md5Scalar(uint32_t* state, const uint8_t* const* ptrs, size_t blocks) {
  using Ops = ScalarOps;
  const uint32_t* const K = kMd5K;
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  const uint8_t* p = ptrs[0];
  for (size_t blk = 0; blk < blocks; ++blk, p += kBlock) {
    uint32_t w[16];
    for (int i = 0; i < 16; ++i) {
      w[i] = uint32_t{p[4 * i]} | uint32_t{p[4 * i + 1]} << 8 | uint32_t{p[4 * i + 2]} << 16 |
             uint32_t{p[4 * i + 3]} << 24;
    }
    const uint32_t a0 = a, b0 = b, c0 = c, d0 = d;
    CAIRN_MD5_64_STEPS;
    a += a0;
    b += b0;
    c += c0;
    d += d0;
  }
  state[0] = a;
  state[1] = b;
  state[2] = c;
  state[3] = d;
}

#ifdef CAIRN_MD5_X86

// ---- AVX2: 8 lanes. ----

struct Avx2Ops {
  using V = __m256i;
  template <int S>
  CAIRN_TARGET_AVX2 static inline void Finish(V& a, V b, V t) {
    a = _mm256_add_epi32(b, _mm256_or_si256(_mm256_slli_epi32(t, S), _mm256_srli_epi32(t, 32 - S)));
  }
  CAIRN_TARGET_AVX2 static inline V AddWk(V a, V w, uint32_t k) {
    return _mm256_add_epi32(a, _mm256_add_epi32(w, _mm256_set1_epi32(static_cast<int>(k))));
  }
  template <int S>
  CAIRN_TARGET_AVX2 static inline void F(V& a, V b, V c, V d, V w, uint32_t k) {
    V f = _mm256_xor_si256(d, _mm256_and_si256(b, _mm256_xor_si256(c, d)));
    Finish<S>(a, b, _mm256_add_epi32(AddWk(a, w, k), f));
  }
  template <int S>
  CAIRN_TARGET_AVX2 static inline void G(V& a, V b, V c, V d, V w, uint32_t k) {
    V g = _mm256_xor_si256(c, _mm256_and_si256(d, _mm256_xor_si256(b, c)));
    Finish<S>(a, b, _mm256_add_epi32(AddWk(a, w, k), g));
  }
  template <int S>
  CAIRN_TARGET_AVX2 static inline void H(V& a, V b, V c, V d, V w, uint32_t k) {
    V h = _mm256_xor_si256(b, _mm256_xor_si256(c, d));
    Finish<S>(a, b, _mm256_add_epi32(AddWk(a, w, k), h));
  }
  template <int S>
  CAIRN_TARGET_AVX2 static inline void I(V& a, V b, V c, V d, V w, uint32_t k) {
    V not_d = _mm256_xor_si256(d, _mm256_set1_epi32(-1));
    V i = _mm256_xor_si256(c, _mm256_or_si256(b, not_d));
    Finish<S>(a, b, _mm256_add_epi32(AddWk(a, w, k), i));
  }
};

// rows[l] holds 8 words of lane l; afterwards w[j] holds word j of lanes 0..7.
CAIRN_TARGET_AVX2 inline void Transpose8x8(const __m256i* rows, __m256i* w) {
  __m256i u[2][4];
  for (int m = 0; m < 2; ++m) {
    const __m256i* r = rows + 4 * m;
    __m256i ab_lo = _mm256_unpacklo_epi32(r[0], r[1]), ab_hi = _mm256_unpackhi_epi32(r[0], r[1]);
    __m256i cd_lo = _mm256_unpacklo_epi32(r[2], r[3]), cd_hi = _mm256_unpackhi_epi32(r[2], r[3]);
    u[m][0] = _mm256_unpacklo_epi64(ab_lo, cd_lo);
    u[m][1] = _mm256_unpackhi_epi64(ab_lo, cd_lo);
    u[m][2] = _mm256_unpacklo_epi64(ab_hi, cd_hi);
    u[m][3] = _mm256_unpackhi_epi64(ab_hi, cd_hi);
  }
  for (int i = 0; i < 4; ++i) {
    w[i] = _mm256_permute2x128_si256(u[0][i], u[1][i], 0x20);
    w[4 + i] = _mm256_permute2x128_si256(u[0][i], u[1][i], 0x31);
  }
}

__attribute__((target("avx2"))) void Md5Avx2x8(uint32_t* state, const uint8_t* const* ptrs,
                                               size_t blocks) {
  using Ops = Avx2Ops;
  auto* s = reinterpret_cast<__m256i*>(state);
  __m256i a = _mm256_loadu_si256(s), b = _mm256_loadu_si256(s + 1);
  __m256i c = _mm256_loadu_si256(s + 2), d = _mm256_loadu_si256(s + 3);
  for (size_t blk = 0; blk < blocks; ++blk) {
    // The constants are read through a pointer the compiler cannot see through, so they
    // stay memory operands of the adds instead of being hoisted into registers (which would
    // push the message words out of them).
    const uint32_t* K = kMd5K;
    asm("" : "+r"(K));
    const size_t off = blk * kBlock;
    __m256i lo[8], hi[8], w[16];
    for (int l = 0; l < 8; ++l) {
      lo[l] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ptrs[l] + off));
      hi[l] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ptrs[l] + off + 32));
    }
    Transpose8x8(lo, w);
    Transpose8x8(hi, w + 8);
    const __m256i a0 = a, b0 = b, c0 = c, d0 = d;
    CAIRN_MD5_64_STEPS;
    a = _mm256_add_epi32(a, a0);
    b = _mm256_add_epi32(b, b0);
    c = _mm256_add_epi32(c, c0);
    d = _mm256_add_epi32(d, d0);
  }
  _mm256_storeu_si256(s, a);
  _mm256_storeu_si256(s + 1, b);
  _mm256_storeu_si256(s + 2, c);
  _mm256_storeu_si256(s + 3, d);
}

// ---- AVX-512: 16 lanes; f, g, h, i are one vpternlogd each, rotations one vprold. ----

struct Avx512Ops {
  using V = __m512i;
  // The truth tables of f, g, h, i over (b, c, d): bit (b << 2 | c << 1 | d) of the immediate.
  template <int S, int kTable>
  CAIRN_TARGET_AVX512 static inline void Step(V& a, V b, V c, V d, V w, uint32_t k) {
    V t = _mm512_add_epi32(a, _mm512_add_epi32(w, _mm512_set1_epi32(static_cast<int>(k))));
    t = _mm512_add_epi32(t, _mm512_ternarylogic_epi32(b, c, d, kTable));
    a = _mm512_add_epi32(b, _mm512_rol_epi32(t, S));
  }
  template <int S>
  CAIRN_TARGET_AVX512 static inline void F(V& a, V b, V c, V d, V w, uint32_t k) {
    Step<S, 0xca>(a, b, c, d, w, k);  // b ? c : d
  }
  template <int S>
  CAIRN_TARGET_AVX512 static inline void G(V& a, V b, V c, V d, V w, uint32_t k) {
    Step<S, 0xe4>(a, b, c, d, w, k);  // d ? b : c
  }
  template <int S>
  CAIRN_TARGET_AVX512 static inline void H(V& a, V b, V c, V d, V w, uint32_t k) {
    Step<S, 0x96>(a, b, c, d, w, k);  // b ^ c ^ d
  }
  template <int S>
  CAIRN_TARGET_AVX512 static inline void I(V& a, V b, V c, V d, V w, uint32_t k) {
    Step<S, 0x39>(a, b, c, d, w, k);  // c ^ (b | ~d)
  }
};

// w[l] holds the 16 words of lane l on entry and word l of lanes 0..15 on return.
CAIRN_TARGET_AVX512 inline void Transpose16x16(__m512i* w) {
  // Within each 128-bit quarter q: u[m][i] = word 4q+i of lanes 4m..4m+3.
  __m512i u[4][4];
  for (int m = 0; m < 4; ++m) {
    const __m512i* r = w + 4 * m;
    __m512i ab_lo = _mm512_unpacklo_epi32(r[0], r[1]), ab_hi = _mm512_unpackhi_epi32(r[0], r[1]);
    __m512i cd_lo = _mm512_unpacklo_epi32(r[2], r[3]), cd_hi = _mm512_unpackhi_epi32(r[2], r[3]);
    u[m][0] = _mm512_unpacklo_epi64(ab_lo, cd_lo);
    u[m][1] = _mm512_unpackhi_epi64(ab_lo, cd_lo);
    u[m][2] = _mm512_unpacklo_epi64(ab_hi, cd_hi);
    u[m][3] = _mm512_unpackhi_epi64(ab_hi, cd_hi);
  }
  // Then a 4x4 transpose of 128-bit quarters for each i.
  for (int i = 0; i < 4; ++i) {
    __m512i v0 = _mm512_shuffle_i32x4(u[0][i], u[1][i], 0x44);
    __m512i v1 = _mm512_shuffle_i32x4(u[0][i], u[1][i], 0xee);
    __m512i v2 = _mm512_shuffle_i32x4(u[2][i], u[3][i], 0x44);
    __m512i v3 = _mm512_shuffle_i32x4(u[2][i], u[3][i], 0xee);
    w[i] = _mm512_shuffle_i32x4(v0, v2, 0x88);
    w[4 + i] = _mm512_shuffle_i32x4(v0, v2, 0xdd);
    w[8 + i] = _mm512_shuffle_i32x4(v1, v3, 0x88);
    w[12 + i] = _mm512_shuffle_i32x4(v1, v3, 0xdd);
  }
}

__attribute__((target("avx512f,avx512bw"))) void Md5Avx512x16(uint32_t* state,
                                                              const uint8_t* const* ptrs,
                                                              size_t blocks) {
  using Ops = Avx512Ops;
  __m512i a = _mm512_loadu_si512(state), b = _mm512_loadu_si512(state + 16);
  __m512i c = _mm512_loadu_si512(state + 32), d = _mm512_loadu_si512(state + 48);
  for (size_t blk = 0; blk < blocks; ++blk) {
    // The constants are read through a pointer the compiler cannot see through, so they
    // stay memory operands of the adds instead of being hoisted into registers (which would
    // push the message words out of them).
    const uint32_t* K = kMd5K;
    asm("" : "+r"(K));
    const size_t off = blk * kBlock;
    __m512i w[16];
    for (int l = 0; l < 16; ++l) w[l] = _mm512_loadu_si512(ptrs[l] + off);
    Transpose16x16(w);
    const __m512i a0 = a, b0 = b, c0 = c, d0 = d;
    CAIRN_MD5_64_STEPS;
    a = _mm512_add_epi32(a, a0);
    b = _mm512_add_epi32(b, b0);
    c = _mm512_add_epi32(c, c0);
    d = _mm512_add_epi32(d, d0);
  }
  _mm512_storeu_si512(state, a);
  _mm512_storeu_si512(state + 16, b);
  _mm512_storeu_si512(state + 32, c);
  _mm512_storeu_si512(state + 48, d);
}

#endif  // CAIRN_MD5_X86

#undef CAIRN_MD5_64_STEPS
#undef CAIRN_MD5_4

}  // namespace

namespace {

struct KernelInfo {
  Md5Kernel id;
  std::string_view name;
  size_t width;  // lanes
  KernelFn fn;
};

constexpr size_t kMaxWidth = 16;
constexpr size_t kNoInput = static_cast<size_t>(-1);

const KernelInfo& Info(Md5Kernel kernel) {
  static constexpr KernelInfo kScalarInfo{Md5Kernel::kScalar, "scalar", 1, &Md5Scalar};
#ifdef CAIRN_MD5_X86
  static constexpr KernelInfo kAvx2Info{Md5Kernel::kAvx2x8, "avx2x8", 8, &Md5Avx2x8};
  static constexpr KernelInfo kAvx512Info{Md5Kernel::kAvx512x16, "avx512x16", 16, &Md5Avx512x16};
  if (kernel == Md5Kernel::kAvx2x8) return kAvx2Info;
  if (kernel == Md5Kernel::kAvx512x16) return kAvx512Info;
#endif
  (void)kernel;
  return kScalarInfo;
}

// Writes the padding (0x80, zeros, the length in bits, RFC 1321 §3.1-3.2) after the last
// `data.size() % 64` bytes of data into tail; returns the number of blocks there (1 or 2).
size_t MakeTail(std::string_view data, uint8_t* tail) {
  const size_t rest = data.size() % kBlock;
  if (rest > 0) std::memcpy(tail, data.data() + data.size() - rest, rest);
  const size_t blocks = rest < kBlock - 8 ? 1 : 2;
  tail[rest] = 0x80;
  std::memset(tail + rest + 1, 0, blocks * kBlock - rest - 1);
  const uint64_t bits = uint64_t{data.size()} * 8;
  for (int i = 0; i < 8; ++i) tail[blocks * kBlock - 8 + i] = static_cast<uint8_t>(bits >> (8 * i));
  return blocks;
}

Md5Digest DigestOf(const uint32_t* state, size_t width, size_t lane) {
  Md5Digest out;
  for (size_t r = 0; r < 4; ++r) {
    const uint32_t v = state[r * width + lane];
    for (size_t i = 0; i < 4; ++i) out[4 * r + i] = static_cast<uint8_t>(v >> (8 * i));
  }
  return out;
}

void SetInit(uint32_t* state, size_t width, size_t lane) {
  for (size_t r = 0; r < 4; ++r) state[r * width + lane] = kInit[r];
}

// The Md5Many scheduler: each lane runs its input's whole blocks, then its final block(s) from
// `tail`; a lane that finishes takes the next input. Every kernel call runs the smallest count of
// blocks any busy lane has left; idle lanes read a busy lane's bytes and their results are
// ignored.
void RunMany(const KernelInfo& kernel, std::span<const std::string_view> inputs,
             std::span<Md5Digest> out) {
  struct Lane {
    size_t input = kNoInput;
    const uint8_t* ptr = nullptr;
    size_t blocks = 0;
    bool in_tail = false;
    uint8_t tail[2 * kBlock] = {};
  };
  const size_t width = kernel.width;
  alignas(64) uint32_t state[4 * kMaxWidth] = {};
  Lane lanes[kMaxWidth];
  const uint8_t* ptrs[kMaxWidth] = {};
  size_t next = 0;
  for (;;) {
    size_t busy = 0, first = 0, run = static_cast<size_t>(-1);
    for (size_t l = 0; l < width; ++l) {
      Lane& lane = lanes[l];
      if (lane.input == kNoInput && next < inputs.size()) {
        const std::string_view data = inputs[next];
        lane.input = next++;
        SetInit(state, width, l);
        lane.ptr = reinterpret_cast<const uint8_t*>(data.data());
        lane.blocks = data.size() / kBlock;
        lane.in_tail = lane.blocks == 0;
        if (lane.in_tail) {
          lane.blocks = MakeTail(data, lane.tail);
          lane.ptr = lane.tail;
        }
      }
      if (lane.input == kNoInput) continue;
      if (busy++ == 0) first = l;
      run = std::min(run, lane.blocks);
    }
    if (busy == 0) return;
    for (size_t l = 0; l < width; ++l) {
      ptrs[l] = lanes[l].input != kNoInput ? lanes[l].ptr : lanes[first].ptr;
    }
    kernel.fn(state, ptrs, run);
    for (size_t l = 0; l < width; ++l) {
      Lane& lane = lanes[l];
      if (lane.input == kNoInput) continue;
      lane.ptr += run * kBlock;
      lane.blocks -= run;
      if (lane.blocks > 0) continue;
      if (lane.in_tail) {
        out[lane.input] = DigestOf(state, width, l);
        lane.input = kNoInput;
      } else {
        lane.blocks = MakeTail(inputs[lane.input], lane.tail);
        lane.ptr = lane.tail;
        lane.in_tail = true;
      }
    }
  }
}

// Runs left[l] blocks from ptrs[l] on each lane l < width (0 blocks: the lane's state is kept),
// lanes that run out dropping out of later kernel calls.
void RunLanes(const KernelInfo& kernel, uint32_t* state, const uint8_t** ptrs, size_t* left) {
  const size_t width = kernel.width;
  uint32_t saved[4 * kMaxWidth];
  std::copy(state, state + 4 * width, saved);
  const uint8_t* call_ptrs[kMaxWidth];
  for (;;) {
    size_t busy = 0, first = 0, run = static_cast<size_t>(-1);
    for (size_t l = 0; l < width; ++l) {
      if (left[l] == 0) continue;
      if (busy++ == 0) first = l;
      run = std::min(run, left[l]);
    }
    if (busy == 0) break;
    for (size_t l = 0; l < width; ++l) call_ptrs[l] = left[l] > 0 ? ptrs[l] : ptrs[first];
    kernel.fn(state, call_ptrs, run);
    for (size_t l = 0; l < width; ++l) {
      if (left[l] == 0) continue;
      ptrs[l] += run * kBlock;
      left[l] -= run;
      for (size_t r = 0; r < 4; ++r) saved[r * width + l] = state[r * width + l];
    }
  }
  std::copy(saved, saved + 4 * width, state);
}

}  // namespace

std::string_view Md5KernelName(Md5Kernel kernel) {
  switch (kernel) {
    case Md5Kernel::kScalar:
      return "scalar";
    case Md5Kernel::kAvx2x8:
      return "avx2x8";
    case Md5Kernel::kAvx512x16:
      return "avx512x16";
  }
  return "scalar";
}

bool Md5KernelSupported(Md5Kernel kernel) {
#ifdef CAIRN_MD5_X86
  switch (kernel) {
    case Md5Kernel::kScalar:
      return true;
    case Md5Kernel::kAvx2x8:
      return __builtin_cpu_supports("avx2");
    case Md5Kernel::kAvx512x16:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw");
  }
  return false;
#else
  return kernel == Md5Kernel::kScalar;
#endif
}

Md5Kernel Md5BestKernel() {
  static const Md5Kernel best = [] {
    for (Md5Kernel k : {Md5Kernel::kAvx512x16, Md5Kernel::kAvx2x8}) {
      if (Md5KernelSupported(k)) return k;
    }
    return Md5Kernel::kScalar;
  }();
  return best;
}

std::string_view Md5ManyKernel() { return Md5KernelName(Md5BestKernel()); }

void Md5ManyWith(Md5Kernel kernel, std::span<const std::string_view> inputs,
                 std::span<Md5Digest> out) {
  if (kernel == Md5Kernel::kScalar || !Md5KernelSupported(kernel)) {
    for (size_t i = 0; i < inputs.size(); ++i) out[i] = Md5Of(inputs[i]);
    return;
  }
  RunMany(Info(kernel), inputs, out);
}

void Md5Many(std::span<const std::string_view> inputs, std::span<Md5Digest> out) {
  // One input has no lanes to share with: OpenSSL's single-stream code is as fast.
  Md5ManyWith(inputs.size() <= 1 ? Md5Kernel::kScalar : Md5BestKernel(), inputs, out);
}

Md5Lanes::Md5Lanes(size_t lanes) : Md5Lanes(lanes, Md5LanesOptions{}) {}

Md5Lanes::Md5Lanes(size_t lanes, const Md5LanesOptions& options)
    : kernel_(Md5KernelSupported(options.kernel) ? options.kernel : Md5Kernel::kScalar),
      options_(options),
      lanes_(lanes) {
  options_.batch_bytes = std::max(options_.batch_bytes, kBlock);
  for (Lane& lane : lanes_) std::copy(kInit, kInit + 4, lane.state);
}

Md5Lanes::~Md5Lanes() = default;

void Md5Lanes::HashRuns(std::span<const size_t> ids, std::span<const uint8_t* const> data,
                        std::span<const size_t> blocks) {
  const KernelInfo& kernel = Info(kernel_);
  const size_t width = kernel.width;
  for (size_t group = 0; group < ids.size(); group += width) {
    const size_t members = std::min(width, ids.size() - group);
    uint32_t state[4 * kMaxWidth] = {};
    const uint8_t* ptrs[kMaxWidth] = {};
    size_t left[kMaxWidth] = {};
    for (size_t j = 0; j < members; ++j) {
      const Lane& lane = lanes_[ids[group + j]];
      for (size_t r = 0; r < 4; ++r) state[r * width + j] = lane.state[r];
      ptrs[j] = data[group + j];
      left[j] = blocks[group + j];
    }
    RunLanes(kernel, state, ptrs, left);
    for (size_t j = 0; j < members; ++j) {
      Lane& lane = lanes_[ids[group + j]];
      for (size_t r = 0; r < 4; ++r) lane.state[r] = state[r * width + j];
    }
  }
}

void Md5Lanes::HashBlocks(std::span<const size_t> ids, std::span<const size_t> blocks) {
  std::vector<const uint8_t*> data;
  for (size_t id : ids) data.push_back(lanes_[id].buffer.data());
  HashRuns(ids, data, blocks);
  for (size_t j = 0; j < ids.size(); ++j) {
    std::vector<uint8_t>& buffer = lanes_[ids[j]].buffer;
    buffer.erase(buffer.begin(), buffer.begin() + static_cast<ptrdiff_t>(blocks[j] * kBlock));
  }
}

void Md5Lanes::MaybeHashBatch() {
  // Lanes hashed with idle neighbours waste the SIMD width, so only whole groups go.
  const size_t group = std::min(Info(kernel_).width, lanes_.size());
  std::vector<size_t> ready;
  for (size_t i = 0; i < lanes_.size(); ++i) {
    if (lanes_[i].buffer.size() >= options_.batch_bytes) ready.push_back(i);
  }
  ready.resize(ready.size() / group * group);
  std::vector<size_t> blocks(ready.size());
  for (size_t g = 0; g < ready.size(); g += group) {
    size_t common = static_cast<size_t>(-1);
    for (size_t j = g; j < g + group; ++j) {
      common = std::min(common, lanes_[ready[j]].buffer.size() / kBlock);
    }
    std::fill(blocks.begin() + static_cast<ptrdiff_t>(g),
              blocks.begin() + static_cast<ptrdiff_t>(g + group), common);
  }
  HashBlocks(ready, blocks);
}

void Md5Lanes::HashAllWholeBlocks() {
  std::vector<size_t> ids, blocks;
  for (size_t i = 0; i < lanes_.size(); ++i) {
    const Lane& lane = lanes_[i];
    if (lane.buffer.size() < kBlock) continue;
    ids.push_back(i);
    blocks.push_back(lane.buffer.size() / kBlock);
  }
  HashBlocks(ids, blocks);
}

void Md5Lanes::Update(size_t lane_index, std::string_view data) {
  if (data.empty()) return;
  Lane& lane = lanes_[lane_index];
  // Same element type on both sides, so this is one memcpy.
  const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
  lane.buffer.insert(lane.buffer.end(), bytes, bytes + data.size());
  lane.total += data.size();
  if (lane.buffer.size() > options_.max_buffered_per_lane) {
    HashAllWholeBlocks();
  } else {
    MaybeHashBatch();
  }
}

void Md5Lanes::UpdateEach(std::span<const std::string_view> pieces) {
  std::vector<size_t> ids, blocks;
  std::vector<std::string_view> rest(pieces.size());
  // First each lane's buffer is topped up to whole blocks (at most 63 bytes copied) and hashed,
  for (size_t i = 0; i < pieces.size(); ++i) {
    std::string_view piece = pieces[i];
    if (piece.empty()) continue;
    Lane& lane = lanes_[i];
    lane.total += piece.size();
    const size_t top_up = std::min(piece.size(), (kBlock - lane.buffer.size() % kBlock) % kBlock);
    const auto* bytes = reinterpret_cast<const uint8_t*>(piece.data());
    lane.buffer.insert(lane.buffer.end(), bytes, bytes + top_up);
    rest[i] = piece.substr(top_up);
    if (rest[i].empty() || lane.buffer.empty()) continue;
    ids.push_back(i);
    blocks.push_back(lane.buffer.size() / kBlock);
  }
  HashBlocks(ids, blocks);
  // then the whole blocks of the pieces are hashed where they are, and the rest is kept.
  ids.clear();
  blocks.clear();
  std::vector<const uint8_t*> data;
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (rest[i].size() < kBlock) continue;
    ids.push_back(i);
    data.push_back(reinterpret_cast<const uint8_t*>(rest[i].data()));
    blocks.push_back(rest[i].size() / kBlock);
  }
  HashRuns(ids, data, blocks);
  for (size_t i = 0; i < pieces.size(); ++i) {
    const std::string_view tail = rest[i].substr(rest[i].size() / kBlock * kBlock);
    const auto* bytes = reinterpret_cast<const uint8_t*>(tail.data());
    lanes_[i].buffer.insert(lanes_[i].buffer.end(), bytes, bytes + tail.size());
  }
}

Md5Digest Md5Lanes::Finish(size_t lane_index) {
  Lane& lane = lanes_[lane_index];
  // Padding (RFC 1321 §3.1-3.2) appended to the buffer: everything left is then whole blocks.
  const uint64_t bits = lane.total * 8;
  lane.buffer.push_back(0x80);
  while (lane.buffer.size() % kBlock != kBlock - 8) lane.buffer.push_back(0);
  for (int i = 0; i < 8; ++i) lane.buffer.push_back(static_cast<uint8_t>(bits >> (8 * i)));
  const size_t ids[1] = {lane_index};
  const size_t blocks[1] = {lane.buffer.size() / kBlock};
  HashBlocks(ids, blocks);
  const Md5Digest digest = DigestOf(lane.state, 1, 0);
  std::copy(kInit, kInit + 4, lane.state);
  lane.total = 0;
  return digest;
}

size_t Md5Lanes::buffered_bytes() const {
  size_t total = 0;
  for (const Lane& lane : lanes_) total += lane.buffer.size();
  return total;
}

}  // namespace cairn
