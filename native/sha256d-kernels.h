// The SHA-256d nonce-search paths and their run-time choice, apart from the N-API glue so that a
// plain C++ program can test them. Included once, by sha256d.cc.
#pragma once
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define TALLY_X86 1
#include <cpuid.h>
#include <immintrin.h>
#endif

namespace tally {

const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

const uint32_t IV[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
#define IV0 0x6a09e667u
#define IV1 0xbb67ae85u
#define IV2 0x3c6ef372u
#define IV3 0xa54ff53au
#define IV4 0x510e527fu
#define IV5 0x9b05688cu
#define IV6 0x1f83d9abu
#define IV7 0x5be0cd19u

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))
#define BS0(a) (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22))
#define BS1(e) (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25))
#define SS0(x) (ROTR(x, 7) ^ ROTR(x, 18) ^ ((x) >> 3))
#define SS1(x) (ROTR(x, 17) ^ ROTR(x, 19) ^ ((x) >> 10))
#define CH(e, f, g) ((g) ^ ((e) & ((f) ^ (g))))
#define MAJ(a, b, c) (((a) & (b)) | ((c) & ((a) | (b))))
#define BSWAP(x) (((x) << 24) | (((x) << 8) & 0xff0000u) | (((x) >> 8) & 0xff00u) | ((x) >> 24))

// A job: the midstate of the header's first 64 bytes, its words 16..18 (merkle root tail, time,
// bits, as big-endian values) and the top 32 bits of the target.
struct Job {
  uint32_t mid[8];
  uint32_t tail[3];
  uint32_t target_top;
};

// What every nonce of a job shares: the state after the three nonce-free rounds of block 2, the
// nonce-free part of round 3 and of schedule words 16..19.
struct Prepared {
  uint32_t mid[8];
  uint32_t s3[8];
  uint32_t t1r3, t2r3;
  uint32_t w16, w17, w18, w19;
  uint32_t tail[3];
  uint32_t target_top;
};

Prepared prepare(const Job &j) {
  Prepared p;
  std::memcpy(p.mid, j.mid, sizeof p.mid);
  std::memcpy(p.tail, j.tail, sizeof p.tail);
  p.target_top = j.target_top;
  uint32_t s[8];
  std::memcpy(s, j.mid, sizeof s);
  for (int t = 0; t < 3; t++) {
    uint32_t t1 = s[7] + BS1(s[4]) + CH(s[4], s[5], s[6]) + K[t] + j.tail[t];
    uint32_t t2 = BS0(s[0]) + MAJ(s[0], s[1], s[2]);
    s[7] = s[6]; s[6] = s[5]; s[5] = s[4]; s[4] = s[3] + t1;
    s[3] = s[2]; s[2] = s[1]; s[1] = s[0]; s[0] = t1 + t2;
  }
  std::memcpy(p.s3, s, sizeof s);
  p.t1r3 = s[7] + BS1(s[4]) + CH(s[4], s[5], s[6]) + K[3];
  p.t2r3 = BS0(s[0]) + MAJ(s[0], s[1], s[2]);
  const uint32_t w0 = j.tail[0], w1 = j.tail[1], w2 = j.tail[2];
  p.w16 = SS0(w1) + w0;                      // s1(w14) = 0, w9 = 0
  p.w17 = SS1(640u) + SS0(w2) + w1;          // w10 = 0
  p.w18 = SS1(p.w16) + w2;                   // + s0(nonce)
  p.w19 = SS1(p.w17) + SS0(0x80000000u);     // + nonce
  return p;
}

// ---- portable scalar path
#define V uint32_t
#define LANES 1
#define LANE_SET(v, i, x) ((v) = (x))
#define LANE_GET(v, i) (v)
#define ANY_LE(v, t) ((v) <= (t))
#define SCAN_NAME scan_scalar
#include "sha256d-rounds.h"
#undef V
#undef LANES
#undef LANE_SET
#undef LANE_GET
#undef ANY_LE
#undef SCAN_NAME

#define LANE_SET(v, i, x) ((v)[i] = (x))
#define LANE_GET(v, i) ((v)[i])

#ifdef TALLY_X86
// ---- AVX2, 8 lanes
#pragma GCC push_options
#pragma GCC target("avx2")
#ifdef __clang__
#pragma clang attribute push(__attribute__((target("avx2"))), apply_to = function)
#endif
typedef uint32_t v8u __attribute__((vector_size(32)));
inline bool any_le_avx2(v8u v, uint32_t t) {
  __m256i x = (__m256i)v, tv = _mm256_set1_epi32((int)t);
  return _mm256_movemask_epi8(_mm256_cmpeq_epi32(_mm256_min_epu32(x, tv), x)) != 0;
}
#define V v8u
#define LANES 8
#define ANY_LE(v, t) any_le_avx2(v, t)
#define SCAN_NAME scan_avx2
#include "sha256d-rounds.h"
#undef V
#undef LANES
#undef ANY_LE
#undef SCAN_NAME
#ifdef __clang__
#pragma clang attribute pop
#endif
#pragma GCC pop_options

// ---- AVX-512, 16 lanes
#pragma GCC push_options
#pragma GCC target("avx512f")
#ifdef __clang__
#pragma clang attribute push(__attribute__((target("avx512f"))), apply_to = function)
#endif
typedef uint32_t v16u __attribute__((vector_size(64)));
inline bool any_le_avx512(v16u v, uint32_t t) {
  return _mm512_cmple_epu32_mask((__m512i)v, _mm512_set1_epi32((int)t)) != 0;
}
#define V v16u
#define LANES 16
#define ANY_LE(v, t) any_le_avx512(v, t)
#define SCAN_NAME scan_avx512
#include "sha256d-rounds.h"
#undef V
#undef LANES
#undef ANY_LE
#undef SCAN_NAME
#ifdef __clang__
#pragma clang attribute pop
#endif
#pragma GCC pop_options

// ---- SHA-NI: one compression per sha256rnds2 pair, two nonces interleaved to hide its latency
#pragma GCC push_options
#pragma GCC target("sha,sse4.1")
#ifdef __clang__
#pragma clang attribute push(__attribute__((target("sha,sse4.1"))), apply_to = function)
#endif

// Two independent compressions of state[2] by the host-order words msg[2][16], in place.
__attribute__((always_inline)) inline void compress2_ni(uint32_t st[2][8], const uint32_t msg[2][16]) {
  __m128i s0[2], s1[2], save0[2], save1[2], m[2][16];
  for (int k = 0; k < 2; k++) {
    __m128i tmp = _mm_loadu_si128((const __m128i *)&st[k][0]);  // DCBA
    __m128i t1 = _mm_loadu_si128((const __m128i *)&st[k][4]);   // HGFE
    tmp = _mm_shuffle_epi32(tmp, 0xB1);                          // CDAB
    t1 = _mm_shuffle_epi32(t1, 0x1B);                            // EFGH
    s0[k] = _mm_alignr_epi8(tmp, t1, 8);                         // ABEF
    s1[k] = _mm_blend_epi16(t1, tmp, 0xF0);                      // CDGH
    save0[k] = s0[k];
    save1[k] = s1[k];
  }
#pragma GCC unroll 16
  for (int g = 0; g < 16; g++) {
#pragma GCC unroll 2
    for (int k = 0; k < 2; k++) {
      if (g < 4) {
        m[k][g] = _mm_loadu_si128((const __m128i *)&msg[k][4 * g]);
      } else {
        __m128i x = _mm_sha256msg1_epu32(m[k][g - 4], m[k][g - 3]);
        x = _mm_add_epi32(x, _mm_alignr_epi8(m[k][g - 1], m[k][g - 2], 4));
        m[k][g] = _mm_sha256msg2_epu32(x, m[k][g - 1]);
      }
      __m128i kw = _mm_add_epi32(m[k][g], _mm_loadu_si128((const __m128i *)&K[4 * g]));
      s1[k] = _mm_sha256rnds2_epu32(s1[k], s0[k], kw);
      s0[k] = _mm_sha256rnds2_epu32(s0[k], s1[k], _mm_shuffle_epi32(kw, 0x0E));
    }
  }
  for (int k = 0; k < 2; k++) {
    s0[k] = _mm_add_epi32(s0[k], save0[k]);
    s1[k] = _mm_add_epi32(s1[k], save1[k]);
    __m128i tmp = _mm_shuffle_epi32(s0[k], 0x1B);  // FEBA
    __m128i t1 = _mm_shuffle_epi32(s1[k], 0xB1);   // DCHG
    _mm_storeu_si128((__m128i *)&st[k][0], _mm_blend_epi16(tmp, t1, 0xF0));  // DCBA
    _mm_storeu_si128((__m128i *)&st[k][4], _mm_alignr_epi8(t1, tmp, 8));    // ABEF -> HGFE
  }
}

int64_t scan_shani(const Prepared &p, uint32_t start, uint32_t count) {
  uint32_t b1[2][16], b2[2][16], st[2][8];
  for (int k = 0; k < 2; k++) {
    std::memset(b1[k], 0, sizeof b1[k]);
    std::memset(b2[k], 0, sizeof b2[k]);
    b1[k][0] = p.tail[0];
    b1[k][1] = p.tail[1];
    b1[k][2] = p.tail[2];
    b1[k][4] = 0x80000000u;
    b1[k][15] = 640;
    b2[k][8] = 0x80000000u;
    b2[k][15] = 256;
  }
  for (uint32_t i = 0; i < count; i += 2) {
    for (int k = 0; k < 2; k++) {
      const uint32_t n = start + i + (uint32_t)k;
      b1[k][3] = BSWAP(n);
      std::memcpy(st[k], p.mid, sizeof st[k]);
    }
    compress2_ni(st, b1);
    for (int k = 0; k < 2; k++) {
      std::memcpy(b2[k], st[k], 32);
      std::memcpy(st[k], IV, sizeof st[k]);
    }
    compress2_ni(st, b2);
    for (int k = 0; k < 2; k++) {
      if (i + (uint32_t)k >= count) return -1;
      if (BSWAP(st[k][7]) <= p.target_top) return (int64_t)(uint32_t)(start + i + (uint32_t)k);
    }
  }
  return -1;
}
#ifdef __clang__
#pragma clang attribute pop
#endif
#pragma GCC pop_options

struct Cpu {
  bool sha = false, avx2 = false, avx512 = false;
};

Cpu detect() {
  Cpu c;
  unsigned a, b, cx, d;
  if (!__get_cpuid(1, &a, &b, &cx, &d)) return c;
  const bool osxsave = (cx >> 27) & 1, sse41 = (cx >> 19) & 1;
  unsigned long long xcr0 = 0;
  if (osxsave) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = ((unsigned long long)hi << 32) | lo;
  }
  const bool ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xe6) == 0xe6;
  if (__get_cpuid_max(0, nullptr) < 7) return c;
  __cpuid_count(7, 0, a, b, cx, d);
  c.sha = ((b >> 29) & 1) && sse41;
  c.avx2 = ((b >> 5) & 1) && ymm;
  c.avx512 = ((b >> 16) & 1) && ymm && zmm;
  return c;
}
#else
struct Cpu {
  bool sha = false, avx2 = false, avx512 = false;
};
Cpu detect() { return Cpu{}; }
#endif

typedef int64_t (*ScanFn)(const Prepared &, uint32_t, uint32_t);

struct Path {
  const char *name;
  ScanFn fn;
  bool supported;
};

// Best first: the order `paths()` reports and 'auto' tries.
const Cpu cpu = detect();
#ifdef TALLY_X86
const Path PATHS[] = {{"sha-ni", scan_shani, cpu.sha},
                      {"avx512", scan_avx512, cpu.avx512},
                      {"avx2", scan_avx2, cpu.avx2},
                      {"scalar", scan_scalar, true}};
#else
const Path PATHS[] = {{"scalar", scan_scalar, true}};
#endif
const size_t NPATHS = sizeof PATHS / sizeof PATHS[0];

}  // namespace tally
