// CurlHttpClient: the HttpClient on libcurl (easy interface), with one bounded pool of keep-alive
// connections per endpoint.
//
// Each endpoint (scheme, host, port) gets at most max_connections_per_endpoint curl easy handles;
// a handle keeps its connection open between requests, so a caller that sends requests one after
// another reuses one connection. When every handle of an endpoint is busy, Send waits (at most
// pool_wait_timeout, and never past the request's deadline) for one to come back.
//
// Transport choices (for throughput and predictable failure):
//  - HTTP/1.1 only; TCP_NODELAY; TCP keep-alive probes; redirects are never followed (a signed
//    request must be re-signed for another host); proxies only when configured (the environment's
//    http_proxy is ignored: only apps/cli read the environment).
//  - "Expect: 100-continue" only for bodies of at least expect_continue_threshold bytes or of
//    unknown length: a rejected large upload (bad signature, no permission, quota) then costs one
//    round trip instead of the whole body, while small bodies (most requests) never wait for it.
//  - Idle-progress timeout: a transfer in which no byte moves either way for idle_timeout fails
//    with kUnavailable (CRT stall detection); it also bounds the wait for the first reply byte.
//  - 512 KiB receive and send buffers by default: fewer, larger callbacks per GiB. They are
//    allocated per connection, so memory is about 2 × buffer_size × open connections.
//  - A GET whose caller gives a buffer for the body (ResponseBody::StreamInto) is received straight
//    into it, on a connection curl opens (CONNECT_ONLY) and Cairn speaks HTTP/1.1 on; replies
//    framed by Content-Length only (see SendDirect in the .cc).
//  - TLS certificates are verified unless tls_verification says otherwise; DNS results and TLS
//    sessions are shared by all connections.
//
// Thread safety: Send may be called concurrently from any number of threads (see HttpClient).
// The client must outlive every Send call.
#ifndef CAIRN_HTTP_CURL_HTTP_CLIENT_H_
#define CAIRN_HTTP_CURL_HTTP_CLIENT_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "cairn/common/result.h"
#include "cairn/common/status.h"
#include "cairn/http/http_client.h"

namespace cairn::http {

enum class TlsVerification {
  kVerify,        // check the certificate chain and host name (default)
  kSkipInsecure,  // accept any certificate: test servers with self-signed certificates only
};

struct CurlHttpClientOptions {
  // Connections (curl easy handles) per scheme+host+port; >= 1.
  int max_connections_per_endpoint = 16;
  // Longest wait for a free connection before Send fails with kUnavailable.
  std::chrono::milliseconds pool_wait_timeout{60'000};
  std::chrono::milliseconds connect_timeout{10'000};  // zero: curl's default (300 s)
  // No byte sent or received for this long fails the request (CRT stalls at 30 s). Requests the
  // server answers slowly (S3 CompleteMultipartUpload of many parts, a large server-side copy)
  // need a longer one or a server that sends keep-alive whitespace, as S3 does.
  std::chrono::milliseconds idle_timeout{30'000};  // zero: none
  // Default overall deadline per request (HttpRequest::timeout overrides); zero: none.
  std::chrono::milliseconds request_timeout{0};
  TlsVerification tls_verification = TlsVerification::kVerify;
  // PEM file of trusted CA certificates; empty: the system's bundle.
  std::string ca_file{};
  // "http://proxy:3128"; empty: connect directly.
  std::string proxy{};
  // Empty: "cairn/<version>".
  std::string user_agent{};
  // Receive and send buffer of each connection, 16 KiB..2 MiB (curl's upload buffer limit).
  size_t buffer_size = 512 * 1024;
  // Bodies of at least this many bytes (and of unknown length) are sent with
  // "Expect: 100-continue"; see above. 1 MiB is curl's own threshold for POST.
  uint64_t expect_continue_threshold = 1024 * 1024;
};

class CurlHttpClient final : public HttpClient {
 public:
  // Initializes libcurl for the process once (curl_global_init). kInvalidArgument for bad options,
  // kInternal if libcurl cannot be initialized.
  static Result<std::unique_ptr<CurlHttpClient>> Create(const CurlHttpClientOptions& options);

  // REQUIRES: no Send in progress.
  ~CurlHttpClient() override;

  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  Result<HttpResponse> Send(const HttpRequest& request, const ResponseBody& response_body) override;

  // Connections opened (easy handles created) for the endpoint of `url` so far: for tests and
  // metrics. 0 for an endpoint never used or a malformed URL.
  int ConnectionsForEndpoint(std::string_view url) const;

 private:
  struct Endpoint;
  struct Shared;

  explicit CurlHttpClient(const CurlHttpClientOptions& options);
  Endpoint* EndpointFor(const std::string& key);
  // A GET whose body goes straight into ResponseBody::receive_into (see the .cc), on connections
  // of their own (a second pool per endpoint, bounded alike).
  Result<HttpResponse> SendDirect(const HttpRequest& request, const ResponseBody& response_body,
                                  const std::string& context, Endpoint* main,
                                  std::chrono::steady_clock::time_point pool_deadline,
                                  std::chrono::steady_clock::time_point deadline);

  const CurlHttpClientOptions options_;
  std::unique_ptr<Shared> shared_;  // DNS cache and TLS sessions shared by all handles
  mutable std::mutex endpoints_mu_;
  // Keyed by "scheme://host:port"; entries are never removed while the client lives, so Endpoint
  // pointers stay valid without the lock. Guarded by endpoints_mu_.
  std::map<std::string, std::unique_ptr<Endpoint>> endpoints_;
};

}  // namespace cairn::http

#endif  // CAIRN_HTTP_CURL_HTTP_CLIENT_H_
