// Tally's native SHA-256d nonce search (an N-API addon through node-addon-api). Owns: the scan of
// a nonce range for a header whose first 64 bytes are already compressed into a midstate, on the
// best path this processor has (SHA-NI, AVX-512 16-way, AVX2 8-way, portable scalar), chosen at
// run time from CPUID. Does not own: threads, abort, the full-target check (src/mining/worker.ts).
// It only pre-filters on the hash's top 32 bits, as the WebAssembly kernel does; a path the
// processor lacks is refused with a RangeError rather than run (it would fault).
#include <napi.h>

#include "sha256d-kernels.h"

#include <string>

namespace {
using namespace tally;

// paths(): the names of the paths this processor runs, best first.
Napi::Value Paths(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
  uint32_t n = 0;
  for (size_t i = 0; i < NPATHS; i++)
    if (PATHS[i].supported) out.Set(n++, Napi::String::New(env, PATHS[i].name));
  return out;
}

// scan(path, job, start, count): the first nonce of [start, start+count) (mod 2^32) whose hash's
// top 32 bits are <= the job's, or -1. job is a Uint32Array of 12: midstate, tail words, target top.
Napi::Value Scan(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() != 4 || !info[0].IsString() || !info[1].IsTypedArray() || !info[2].IsNumber() ||
      !info[3].IsNumber()) {
    Napi::TypeError::New(env, "scan(path, job: Uint32Array(12), start, count)").ThrowAsJavaScriptException();
    return env.Null();
  }
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  const Path *path = nullptr;
  for (size_t i = 0; i < NPATHS; i++)
    if (name == PATHS[i].name) path = &PATHS[i];
  if (!path || !path->supported) {
    Napi::RangeError::New(env, "native sha256d path not available here: " + name).ThrowAsJavaScriptException();
    return env.Null();
  }
  Napi::TypedArray ta = info[1].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint32_array || ta.ElementLength() != 12) {
    Napi::RangeError::New(env, "job must be a Uint32Array of 12 words").ThrowAsJavaScriptException();
    return env.Null();
  }
  Napi::Uint32Array words = info[1].As<Napi::Uint32Array>();
  Job job;
  std::memcpy(&job, words.Data(), sizeof job);
  const double start = info[2].As<Napi::Number>().DoubleValue();
  const double count = info[3].As<Napi::Number>().DoubleValue();
  if (!(start >= 0 && start <= 4294967295.0) || !(count >= 0 && count <= 4294967296.0)) {
    Napi::RangeError::New(env, "start must be a u32 and count within 0..2^32").ThrowAsJavaScriptException();
    return env.Null();
  }
  const Prepared p = prepare(job);
  uint32_t s = (uint32_t)start;
  double left = count;
  // A count of 2^32 does not fit the paths' u32: scan it in two halves.
  while (left > 0) {
    const uint32_t n = left > 2147483648.0 ? 2147483648u : (uint32_t)left;
    const int64_t hit = path->fn(p, s, n);
    if (hit >= 0) return Napi::Number::New(env, (double)hit);
    s += n;
    left -= n;
  }
  return Napi::Number::New(env, -1);
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("paths", Napi::Function::New(env, Paths));
  exports.Set("scan", Napi::Function::New(env, Scan));
  return exports;
}

NODE_API_MODULE(tally_sha256d, Init)
