// SigV4 signing cost per request. Small-object workloads (1,000 × 256 KiB, DeleteObjects, listing)
// sign thousands of requests a second, so the per-signature time is client CPU spent on nothing
// but bookkeeping. The client derives the signing key once per day (DeriveSigningKey), so the
// steady state is BM_SignGet / BM_SignPutUnsignedPayload; BM_DeriveSigningKey is what a cache
// saves on each request.
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "cairn/objstore/s3/signer.h"

namespace cairn::objstore::s3 {
namespace {

const Credentials& Creds() {
  static const Credentials creds{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                                 ""};
  return creds;
}

const SigningScope& Scope() {
  static const SigningScope scope{"us-east-1", "s3"};
  return scope;
}

SigningTime Now() { return SigningTime::FromUnixSeconds(1700000000).value(); }

// A ranged GET of an object with a realistic key, path-style as against RGW.
SignableRequest TypicalGet() {
  return {"GET",
          "/cairn-bench/datasets/run42/part-00017.parquet",
          {},
          {{"Host", "127.0.0.1:7480"}, {"Range", "bytes=8388608-16777215"}},
          std::string(kEmptyPayloadSha256)};
}

// An UploadPart: the body is protected by Content-MD5, not hashed again for the signature.
SignableRequest TypicalPut() {
  return {
      "PUT",
      "/cairn-bench/datasets/run42/part-00017.parquet",
      {{"partNumber", "17"}, {"uploadId", "2~Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1dXhxdXV4"}},
      {{"Host", "127.0.0.1:7480"},
       {"Content-Length", "8388608"},
       {"Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg=="}},
      std::string(kUnsignedPayload)};
}

void BM_SignGet(benchmark::State& state) {
  SignableRequest request = TypicalGet();
  SigningTime now = Now();
  SigningKey key =
      DeriveSigningKey(Creds().secret_access_key, now.date(), Scope().region, Scope().service);
  for (auto _ : state) {
    Result<HeaderSignature> sig = SignHeaders(request, Creds(), Scope(), now, key);
    benchmark::DoNotOptimize(sig);
  }
}
BENCHMARK(BM_SignGet);

void BM_SignPutUnsignedPayload(benchmark::State& state) {
  SignableRequest request = TypicalPut();
  SigningTime now = Now();
  SigningKey key =
      DeriveSigningKey(Creds().secret_access_key, now.date(), Scope().region, Scope().service);
  for (auto _ : state) {
    Result<HeaderSignature> sig = SignHeaders(request, Creds(), Scope(), now, key);
    benchmark::DoNotOptimize(sig);
  }
}
BENCHMARK(BM_SignPutUnsignedPayload);

// The same GET without a cached key: four more HMACs per request.
void BM_SignGetDerivingKey(benchmark::State& state) {
  SignableRequest request = TypicalGet();
  SigningTime now = Now();
  for (auto _ : state) {
    Result<HeaderSignature> sig = SignHeaders(request, Creds(), Scope(), now);
    benchmark::DoNotOptimize(sig);
  }
}
BENCHMARK(BM_SignGetDerivingKey);

void BM_PresignGet(benchmark::State& state) {
  SignableRequest request = TypicalGet();
  request.headers.pop_back();  // a shared URL signs Host only
  request.payload_sha256_hex = kUnsignedPayload;
  SigningTime now = Now();
  SigningKey key =
      DeriveSigningKey(Creds().secret_access_key, now.date(), Scope().region, Scope().service);
  for (auto _ : state) {
    Result<PresignedUrl> url =
        PresignUrl(request, Creds(), Scope(), now, std::chrono::seconds(3600), key);
    benchmark::DoNotOptimize(url);
  }
}
BENCHMARK(BM_PresignGet);

void BM_DeriveSigningKey(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        DeriveSigningKey(Creds().secret_access_key, "20231114", Scope().region, Scope().service));
  }
}
BENCHMARK(BM_DeriveSigningKey);

}  // namespace
}  // namespace cairn::objstore::s3

BENCHMARK_MAIN();
