/* The SHA-256d nonce loop written once over a lane type V (a GCC/Clang vector of LANES 32-bit
 * words, or plain uint32_t for the scalar path). Included once per path by sha256d.cc with V,
 * LANES, SCAN_NAME and the target pragma set. Job-invariant work (the midstate, the first three
 * rounds of the header's second block, the nonce-free parts of its schedule) is done once per
 * call by the caller's Prepared struct; the loop stops at round 60 of the second hash, which
 * already fixes the top word of the hash (H7 = IV7 + e after round 60). */

static int64_t SCAN_NAME(const Prepared &p, uint32_t start, uint32_t count) {
  const uint32_t groups = (count + LANES - 1) / LANES;
  V lane;
  for (int i = 0; i < LANES; i++) LANE_SET(lane, i, (uint32_t)i);
  for (uint32_t g = 0; g < groups; g++) {
    const uint32_t base = start + g * LANES;
    const V nonce = lane + base;
    V w[64];
    /* the header's nonce is little-endian; SHA-256 reads it big-endian */
    w[3] = BSWAP(nonce);
    /* round 3, the first to see the nonce: a..h after round 2 come from the job */
    V a = p.s3[0] + V{}, b = p.s3[1] + V{}, c = p.s3[2] + V{}, d = p.s3[3] + V{};
    V e = p.s3[4] + V{}, f = p.s3[5] + V{}, gg = p.s3[6] + V{}, h = p.s3[7] + V{};
    {
      V t1 = p.t1r3 + w[3];
      V t2 = p.t2r3 + V{};
      d = d + t1;
      h = t1 + t2;
    }
#define RND(a, b, c, d, e, f, g, h, kw)                  \
  do {                                                   \
    V t1_ = h + BS1(e) + CH(e, f, g) + (kw);             \
    V t2_ = BS0(a) + MAJ(a, b, c);                       \
    d = d + t1_;                                         \
    h = t1_ + t2_;                                       \
  } while (0)
    /* rotate roles: after round 3 the new a is h */
    RND(h, a, b, c, d, e, f, gg, K[4] + 0x80000000u);
    RND(gg, h, a, b, c, d, e, f, K[5]);
    RND(f, gg, h, a, b, c, d, e, K[6]);
    RND(e, f, gg, h, a, b, c, d, K[7]);
    RND(d, e, f, gg, h, a, b, c, K[8]);
    RND(c, d, e, f, gg, h, a, b, K[9]);
    RND(b, c, d, e, f, gg, h, a, K[10]);
    RND(a, b, c, d, e, f, gg, h, K[11]);
    RND(h, a, b, c, d, e, f, gg, K[12]);
    RND(gg, h, a, b, c, d, e, f, K[13]);
    RND(f, gg, h, a, b, c, d, e, K[14]);
    RND(e, f, gg, h, a, b, c, d, K[15] + 640u);
    /* schedule of block 2: w0..w2 job words, w3 nonce, w4 = 0x80000000, w5..w14 = 0, w15 = 640 */
    w[16] = p.w16 + V{};
    w[17] = p.w17 + V{};
    w[18] = p.w18 + SS0(w[3]);
    w[19] = p.w19 + w[3];
    w[20] = SS1(w[18]) + 0x80000000u; /* s0(w5)=0, w13=0 */
    w[21] = SS1(w[19]);
    w[22] = SS1(w[20]) + 640u;
    w[23] = SS1(w[21]) + w[16];
    w[24] = SS1(w[22]) + w[17];
    w[25] = SS1(w[23]) + w[18];
    w[26] = SS1(w[24]) + w[19];
    w[27] = SS1(w[25]) + w[20];
    w[28] = SS1(w[26]) + w[21];
    w[29] = SS1(w[27]) + w[22];
    w[30] = SS1(w[28]) + w[23] + SS0(640u + V{});
    w[31] = SS1(w[29]) + w[24] + SS0(w[16]) + 640u;
#pragma GCC unroll 32
    for (int t = 32; t < 64; t++) w[t] = SS1(w[t - 2]) + w[t - 7] + SS0(w[t - 15]) + w[t - 16];
    RND(d, e, f, gg, h, a, b, c, K[16] + w[16]);
    RND(c, d, e, f, gg, h, a, b, K[17] + w[17]);
    RND(b, c, d, e, f, gg, h, a, K[18] + w[18]);
    RND(a, b, c, d, e, f, gg, h, K[19] + w[19]);
/* eight rounds from round t, written for the
 * two rotations used: the first hash's rounds 28.. (roles one behind) and the second hash's 16.. */
#define EIGHT_H(t, w)                                   \
  RND(h, a, b, c, d, e, f, gg, K[t] + w[t]);            \
  RND(gg, h, a, b, c, d, e, f, K[t + 1] + w[t + 1]);    \
  RND(f, gg, h, a, b, c, d, e, K[t + 2] + w[t + 2]);    \
  RND(e, f, gg, h, a, b, c, d, K[t + 3] + w[t + 3]);    \
  RND(d, e, f, gg, h, a, b, c, K[t + 4] + w[t + 4]);    \
  RND(c, d, e, f, gg, h, a, b, K[t + 5] + w[t + 5]);    \
  RND(b, c, d, e, f, gg, h, a, K[t + 6] + w[t + 6]);    \
  RND(a, b, c, d, e, f, gg, h, K[t + 7] + w[t + 7])
#define EIGHT_A(t, w)                                   \
  RND(a, b, c, d, e, f, gg, h, K[t] + w[t]);            \
  RND(h, a, b, c, d, e, f, gg, K[t + 1] + w[t + 1]);    \
  RND(gg, h, a, b, c, d, e, f, K[t + 2] + w[t + 2]);    \
  RND(f, gg, h, a, b, c, d, e, K[t + 3] + w[t + 3]);    \
  RND(e, f, gg, h, a, b, c, d, K[t + 4] + w[t + 4]);    \
  RND(d, e, f, gg, h, a, b, c, K[t + 5] + w[t + 5]);    \
  RND(c, d, e, f, gg, h, a, b, K[t + 6] + w[t + 6]);    \
  RND(b, c, d, e, f, gg, h, a, K[t + 7] + w[t + 7])
    RND(h, a, b, c, d, e, f, gg, K[20] + w[20]);
    RND(gg, h, a, b, c, d, e, f, K[21] + w[21]);
    RND(f, gg, h, a, b, c, d, e, K[22] + w[22]);
    RND(e, f, gg, h, a, b, c, d, K[23] + w[23]);
    RND(d, e, f, gg, h, a, b, c, K[24] + w[24]);
    RND(c, d, e, f, gg, h, a, b, K[25] + w[25]);
    RND(b, c, d, e, f, gg, h, a, K[26] + w[26]);
    RND(a, b, c, d, e, f, gg, h, K[27] + w[27]);
    EIGHT_H(28, w);
    EIGHT_H(36, w);
    EIGHT_H(44, w);
    EIGHT_H(52, w);
    RND(h, a, b, c, d, e, f, gg, K[60] + w[60]);
    RND(gg, h, a, b, c, d, e, f, K[61] + w[61]);
    RND(f, gg, h, a, b, c, d, e, K[62] + w[62]);
    RND(e, f, gg, h, a, b, c, d, K[63] + w[63]);
    /* first digest: midstate + state; after round 63 the variables d, e, f, gg, h, a, b, c hold
     * the registers A..H */
    V x[64];
    x[0] = d + p.mid[0]; x[1] = e + p.mid[1]; x[2] = f + p.mid[2]; x[3] = gg + p.mid[3];
    x[4] = h + p.mid[4]; x[5] = a + p.mid[5]; x[6] = b + p.mid[6]; x[7] = c + p.mid[7];
    /* second hash: x0..x7 digest, x8 = 0x80000000, x9..x14 = 0, x15 = 256 */
    x[16] = SS0(x[1]) + x[0];
    x[17] = SS1(256u + V{}) + SS0(x[2]) + x[1];
    x[18] = SS1(x[16]) + SS0(x[3]) + x[2];
    x[19] = SS1(x[17]) + SS0(x[4]) + x[3];
    x[20] = SS1(x[18]) + SS0(x[5]) + x[4];
    x[21] = SS1(x[19]) + SS0(x[6]) + x[5];
    x[22] = SS1(x[20]) + 256u + SS0(x[7]) + x[6];
    x[23] = SS1(x[21]) + x[16] + SS0(0x80000000u + V{}) + x[7];
    x[24] = SS1(x[22]) + x[17] + 0x80000000u;
    x[25] = SS1(x[23]) + x[18];
    x[26] = SS1(x[24]) + x[19];
    x[27] = SS1(x[25]) + x[20];
    x[28] = SS1(x[26]) + x[21];
    x[29] = SS1(x[27]) + x[22];
    x[30] = SS1(x[28]) + x[23] + SS0(256u + V{});
    x[31] = SS1(x[29]) + x[24] + SS0(x[16]) + 256u;
#pragma GCC unroll 32
    for (int t = 32; t < 61; t++) x[t] = SS1(x[t - 2]) + x[t - 7] + SS0(x[t - 15]) + x[t - 16];
    a = IV0 + V{}; b = IV1 + V{}; c = IV2 + V{}; d = IV3 + V{};
    e = IV4 + V{}; f = IV5 + V{}; gg = IV6 + V{}; h = IV7 + V{};
    RND(a, b, c, d, e, f, gg, h, K[0] + x[0]);
    RND(h, a, b, c, d, e, f, gg, K[1] + x[1]);
    RND(gg, h, a, b, c, d, e, f, K[2] + x[2]);
    RND(f, gg, h, a, b, c, d, e, K[3] + x[3]);
    RND(e, f, gg, h, a, b, c, d, K[4] + x[4]);
    RND(d, e, f, gg, h, a, b, c, K[5] + x[5]);
    RND(c, d, e, f, gg, h, a, b, K[6] + x[6]);
    RND(b, c, d, e, f, gg, h, a, K[7] + x[7]);
    RND(a, b, c, d, e, f, gg, h, K[8] + 0x80000000u);
    RND(h, a, b, c, d, e, f, gg, K[9]);
    RND(gg, h, a, b, c, d, e, f, K[10]);
    RND(f, gg, h, a, b, c, d, e, K[11]);
    RND(e, f, gg, h, a, b, c, d, K[12]);
    RND(d, e, f, gg, h, a, b, c, K[13]);
    RND(c, d, e, f, gg, h, a, b, K[14]);
    RND(b, c, d, e, f, gg, h, a, K[15] + 256u);
    EIGHT_A(16, x);
    EIGHT_A(24, x);
    EIGHT_A(32, x);
    EIGHT_A(40, x);
    EIGHT_A(48, x);
    RND(a, b, c, d, e, f, gg, h, K[56] + x[56]);
    RND(h, a, b, c, d, e, f, gg, K[57] + x[57]);
    RND(gg, h, a, b, c, d, e, f, K[58] + x[58]);
    RND(f, gg, h, a, b, c, d, e, K[59] + x[59]);
    RND(e, f, gg, h, a, b, c, d, K[60] + x[60]);
    /* round 60 left register E in the variable h; rounds 61..63 would only move it into H */
    const V top = BSWAP(h + IV7);
#undef RND
#undef EIGHT_H
#undef EIGHT_A
    if (ANY_LE(top, p.target_top)) {
      for (int i = 0; i < LANES; i++) {
        if (g * LANES + i >= count) return -1;
        if (LANE_GET(top, i) <= p.target_top) return (int64_t)(uint32_t)(base + i);
      }
    }
  }
  return -1;
}
