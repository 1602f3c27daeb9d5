// FaultInjectingHttpClient: an HttpClient double that wraps another and, driven by a seeded RNG,
// makes some requests fail the way S3 and networks do, so retry and integrity logic can be tested
// deterministically (STYLE.md rule 7).
//
// Faults, each with its own rate (probability per eligible request, 0..1; at most one fault per
// request, drawn in the order below):
//  - slow_down: a synthetic "503 SlowDown" reply with S3's XML error document; the request never
//    reaches the wrapped client (its body is not read).
//  - reset_before: kUnavailable "connection reset" (errno ECONNRESET) before anything is sent.
//  - reset_mid_upload: part of the request body is pulled from its source (so the caller has to
//    rewind it), then kUnavailable "connection reset"; the wrapped client is not called.
//    Requests without a body get no fault instead.
//  - reset_mid_body: the request goes through; a random prefix of the reply body is delivered
//    (to the sink, or discarded when collected) and then kUnavailable "connection reset". Applies
//    to streamed 2xx bodies and to collected bodies; others pass through unharmed.
//  - truncate: the request goes through, but only a random prefix of a streamed 2xx reply body
//    reaches the sink and Send reports success with the status and headers unchanged
//    (Content-Length included), as a faulty proxy or a server that lies would. Only end-to-end
//    checks catch it: the caller must compare the bytes it got with Content-Length or a hash.
//    A collected body is cut short the same way.
//
// Determinism: each Send draws the same number of random values from one generator seeded with
// `seed`, so for sequential callers a seed always yields the same faults at the same requests. With
// concurrent callers the faults depend on the order in which calls reach the injector.
//
// Thread safety: Send, SetRates and counts() may be called concurrently. Ownership: the wrapped
// client is not owned and must outlive this object.
#ifndef CAIRN_HTTP_FAULT_INJECTING_HTTP_CLIENT_H_
#define CAIRN_HTTP_FAULT_INJECTING_HTTP_CLIENT_H_

#include <cstdint>
#include <functional>
#include <mutex>
#include <random>

#include "cairn/common/result.h"
#include "cairn/http/http_client.h"

namespace cairn::http {

struct FaultRates {
  double slow_down = 0;
  double reset_before = 0;
  double reset_mid_upload = 0;
  double reset_mid_body = 0;
  double truncate = 0;
};

struct FaultCounts {
  uint64_t requests = 0;  // Send calls
  uint64_t slow_downs = 0;
  uint64_t resets_before = 0;
  uint64_t resets_mid_upload = 0;
  uint64_t resets_mid_body = 0;
  uint64_t truncations = 0;
  uint64_t faults() const {
    return slow_downs + resets_before + resets_mid_upload + resets_mid_body + truncations;
  }
};

struct FaultInjectionOptions {
  uint64_t seed = 1;
  FaultRates rates{};
  // Requests for which it returns false never get a fault (e.g. spare AbortMultipartUpload so a
  // test can check cleanup). Empty: every request is eligible. Called on the sending thread.
  std::function<bool(const HttpRequest&)> eligible{};
};

class FaultInjectingHttpClient final : public HttpClient {
 public:
  // REQUIRES: `inner` outlives this object; every rate is within 0..1.
  FaultInjectingHttpClient(HttpClient* inner, FaultInjectionOptions options);

  Result<HttpResponse> Send(const HttpRequest& request, const ResponseBody& response_body) override;

  // Changes the rates for later requests (e.g. everything fails from now on).
  void SetRates(const FaultRates& rates);
  // A snapshot of what has been injected so far.
  FaultCounts counts() const;

 private:
  enum class Fault { kNone, kSlowDown, kResetBefore, kResetMidUpload, kResetMidBody, kTruncate };
  struct Plan {
    Fault fault = Fault::kNone;
    double cut = 0;  // where to cut, as a fraction of the body: 0 <= cut < 1
    uint64_t request_number = 0;
  };

  Plan Draw(const HttpRequest& request);
  void Count(Fault fault);
  Result<HttpResponse> SlowDown(const Plan& plan, const HttpRequest& request,
                                const ResponseBody& response_body);
  Result<HttpResponse> ResetMidUpload(const Plan& plan, const HttpRequest& request);
  Result<HttpResponse> CutReply(const Plan& plan, const HttpRequest& request,
                                const ResponseBody& response_body);

  HttpClient* const inner_;
  const std::function<bool(const HttpRequest&)> eligible_;
  mutable std::mutex mu_;
  std::mt19937_64 rng_;  // guarded by mu_
  FaultRates rates_;     // guarded by mu_
  FaultCounts counts_;   // guarded by mu_
};

}  // namespace cairn::http

#endif  // CAIRN_HTTP_FAULT_INJECTING_HTTP_CLIENT_H_
