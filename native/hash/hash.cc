// Tally's native one-shot hashes (an N-API addon): SHA-256, double SHA-256, RIPEMD-160 and HASH160
// of a byte array into a caller's 32- or 20-byte array, by OpenSSL's own functions (the copy this
// Node was built with, which picks SHA-NI or AVX2 at run time). Owns: nothing but the calls; the
// hashing is OpenSSL's. Why: node:crypto's hash() costs about 0.7 us per call beyond the hashing
// (an algorithm look-up and a new Buffer each time), and a block's validation makes about six
// calls per input (docs/benchmarks.md). src/crypto/hash.ts loads this addon when it can and
// checks it against node:crypto first; without it, node:crypto is used.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <node_api.h>
#include <openssl/ripemd.h>
#include <openssl/sha.h>

namespace {

// The input's and the output's bytes; false (with a TypeError thrown) unless both are Uint8Arrays
// and the output has room for `outLen` bytes.
bool Args(napi_env env, napi_callback_info info, size_t outLen, const unsigned char **in, size_t *inLen,
          unsigned char **out) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != 2) {
    napi_throw_type_error(env, nullptr, "expected (input, output)");
    return false;
  }
  napi_typedarray_type t;
  size_t len;
  void *data;
  if (napi_get_typedarray_info(env, argv[0], &t, &len, &data, nullptr, nullptr) != napi_ok ||
      t != napi_uint8_array) {
    napi_throw_type_error(env, nullptr, "input must be a Uint8Array");
    return false;
  }
  *in = static_cast<const unsigned char *>(data);
  *inLen = len;
  if (napi_get_typedarray_info(env, argv[1], &t, &len, &data, nullptr, nullptr) != napi_ok ||
      t != napi_uint8_array || len < outLen) {
    napi_throw_type_error(env, nullptr, "output must be a Uint8Array with room for the digest");
    return false;
  }
  *out = static_cast<unsigned char *>(data);
  return true;
}

void Sha256(const unsigned char *in, size_t len, unsigned char *out) {
  SHA256_CTX c;
  SHA256_Init(&c);
  SHA256_Update(&c, in, len);
  SHA256_Final(out, &c);
}

void Ripemd160(const unsigned char *in, size_t len, unsigned char *out) {
  RIPEMD160_CTX c;
  RIPEMD160_Init(&c);
  RIPEMD160_Update(&c, in, len);
  RIPEMD160_Final(out, &c);
}

void Sha256d(const unsigned char *in, size_t len, unsigned char *out) {
  unsigned char first[32];
  Sha256(in, len, first);
  Sha256(first, 32, out);
}

void Hash160(const unsigned char *in, size_t len, unsigned char *out) {
  unsigned char first[32];
  Sha256(in, len, first);
  Ripemd160(first, 32, out);
}

// The JavaScript function (input, output) for a digest of `Size` bytes made by `Digest`.
template <size_t Size, void (*Digest)(const unsigned char *, size_t, unsigned char *)>
napi_value Js(napi_env env, napi_callback_info info) {
  const unsigned char *in;
  size_t len;
  unsigned char *out;
  if (Args(env, info, Size, &in, &len, &out)) Digest(in, len, out);
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"sha256", nullptr, Js<32, Sha256>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sha256d", nullptr, Js<32, Sha256d>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"ripemd160", nullptr, Js<20, Ripemd160>, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"hash160", nullptr, Js<20, Hash160>, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
