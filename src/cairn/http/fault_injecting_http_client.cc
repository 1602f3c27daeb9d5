#include "cairn/http/fault_injecting_http_client.h"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace cairn::http {

namespace {

// Where a reply or request body of unknown length is cut: within its first 1 MiB.
constexpr double kUnknownLengthCutRange = 1024 * 1024;
// Chunk in which a mid-upload reset pulls from the request body's source.
constexpr size_t kPullChunk = 64 * 1024;

std::string Context(const HttpRequest& request) {
  return request.method + " " +
         (request.url_for_messages.empty() ? RedactUrl(request.url) : request.url_for_messages);
}

Status InjectedReset(const HttpRequest& request, std::string_view when) {
  ErrorDetail detail;
  detail.sys_errno = ECONNRESET;
  return Status(
      StatusCode::kUnavailable,
      Context(request) + ": connection reset by peer " + std::string(when) + " (injected fault)",
      std::move(detail));
}

// S3's reply to a request rate it will not take (the AWS S3 error responses documentation).
std::string SlowDownXml(const std::string& request_id) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
         "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message>"
         "<RequestId>" +
         request_id + "</RequestId><HostId>cairn-fault-injector</HostId></Error>";
}

}  // namespace

FaultInjectingHttpClient::FaultInjectingHttpClient(HttpClient* inner, FaultInjectionOptions options)
    : inner_(inner),
      eligible_(std::move(options.eligible)),
      rng_(options.seed),
      rates_(options.rates) {}

void FaultInjectingHttpClient::SetRates(const FaultRates& rates) {
  std::lock_guard lock(mu_);
  rates_ = rates;
}

FaultCounts FaultInjectingHttpClient::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

FaultInjectingHttpClient::Plan FaultInjectingHttpClient::Draw(const HttpRequest& request) {
  const bool eligible = !eligible_ || eligible_(request);
  std::lock_guard lock(mu_);
  Plan plan;
  plan.request_number = ++counts_.requests;
  // Always two draws per request, so one request's eligibility or fault never shifts the faults
  // of the requests after it.
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double choice = unit(rng_);
  plan.cut = unit(rng_);
  if (!eligible) return plan;
  double edge = 0;
  const std::pair<double, Fault> bins[] = {
      {rates_.slow_down, Fault::kSlowDown},
      {rates_.reset_before, Fault::kResetBefore},
      {rates_.reset_mid_upload, Fault::kResetMidUpload},
      {rates_.reset_mid_body, Fault::kResetMidBody},
      {rates_.truncate, Fault::kTruncate},
  };
  for (const auto& [rate, fault] : bins) {
    edge += rate;
    if (choice < edge) {
      plan.fault = fault;
      break;
    }
  }
  return plan;
}

void FaultInjectingHttpClient::Count(Fault fault) {
  std::lock_guard lock(mu_);
  switch (fault) {
    case Fault::kNone:
      break;
    case Fault::kSlowDown:
      ++counts_.slow_downs;
      break;
    case Fault::kResetBefore:
      ++counts_.resets_before;
      break;
    case Fault::kResetMidUpload:
      ++counts_.resets_mid_upload;
      break;
    case Fault::kResetMidBody:
      ++counts_.resets_mid_body;
      break;
    case Fault::kTruncate:
      ++counts_.truncations;
      break;
  }
}

Result<HttpResponse> FaultInjectingHttpClient::Send(const HttpRequest& request,
                                                    const ResponseBody& response_body) {
  const Plan plan = Draw(request);
  switch (plan.fault) {
    case Fault::kNone:
      break;
    case Fault::kSlowDown:
      return SlowDown(plan, request, response_body);
    case Fault::kResetBefore:
      Count(plan.fault);
      return InjectedReset(request, "before the request was sent");
    case Fault::kResetMidUpload:
      if (request.body.empty()) break;
      return ResetMidUpload(plan, request);
    case Fault::kResetMidBody:
    case Fault::kTruncate:
      return CutReply(plan, request, response_body);
  }
  return inner_->Send(request, response_body);
}

Result<HttpResponse> FaultInjectingHttpClient::SlowDown(const Plan& plan,
                                                        const HttpRequest& request,
                                                        const ResponseBody& response_body) {
  Count(plan.fault);
  const std::string request_id = "cairnfault" + std::to_string(plan.request_number);
  const std::string xml = SlowDownXml(request_id);
  HttpResponse response;
  response.status_code = 503;
  response.headers.Add("Content-Type", "application/xml");
  response.headers.Add("Content-Length", std::to_string(xml.size()));
  response.headers.Add("x-amz-request-id", request_id);
  response.headers.Add("Connection", "close");
  if (response_body.on_headers()) CAIRN_RETURN_IF_ERROR(response_body.on_headers()(response));
  if (!response_body.streamed() && xml.size() > response_body.max_bytes()) {
    ErrorDetail detail;
    detail.http_status = 503;
    return Status(StatusCode::kResourceExhausted,
                  Context(request) + ": response body exceeds the limit of " +
                      std::to_string(response_body.max_bytes()) + " bytes",
                  std::move(detail));
  }
  response.body = xml;
  response.body_bytes = xml.size();
  return response;
}

Result<HttpResponse> FaultInjectingHttpClient::ResetMidUpload(const Plan& plan,
                                                              const HttpRequest& request) {
  Count(plan.fault);
  const int64_t length = request.body.length();
  uint64_t sent = 0;
  if (request.body.is_stream()) {
    const double range = length >= 0 ? static_cast<double>(length) : kUnknownLengthCutRange;
    const auto target = static_cast<uint64_t>(plan.cut * range);
    std::vector<char> buffer(kPullChunk);
    while (sent < target) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(kPullChunk, target - sent));
      CAIRN_ASSIGN_OR_RETURN(size_t n, request.body.source()(std::span<char>(buffer.data(), want)));
      if (n == 0) break;
      sent += n;
    }
  } else {
    sent = static_cast<uint64_t>(plan.cut * static_cast<double>(length));
  }
  return InjectedReset(request, "after " + std::to_string(sent) + " request body bytes");
}

Result<HttpResponse> FaultInjectingHttpClient::CutReply(const Plan& plan,
                                                        const HttpRequest& request,
                                                        const ResponseBody& response_body) {
  const bool reset = plan.fault == Fault::kResetMidBody;
  if (!response_body.streamed()) {
    CAIRN_ASSIGN_OR_RETURN(HttpResponse response, inner_->Send(request, response_body));
    if (response.body.empty()) return response;
    const auto cut_at = static_cast<size_t>(plan.cut * static_cast<double>(response.body.size()));
    Count(plan.fault);
    if (reset) {
      return InjectedReset(request, "after " + std::to_string(cut_at) + " reply body bytes");
    }
    response.body.resize(cut_at);
    return response;
  }

  // Streamed: learn the length from the headers, then pass on bytes up to the cut.
  struct State {
    uint64_t cut_at = 0;
    uint64_t delivered = 0;
    bool cut = false;  // bytes were held back
  };
  auto state = std::make_shared<State>();
  const double cut = plan.cut;
  HeadersCallback on_headers = [state, cut, &response_body](const HttpResponse& head) {
    double range = kUnknownLengthCutRange;
    if (std::optional<std::string_view> length = head.headers.Get("Content-Length")) {
      range = std::strtod(std::string(*length).c_str(), nullptr);
    }
    state->cut_at = static_cast<uint64_t>(cut * range);
    return response_body.on_headers() ? response_body.on_headers()(head) : Status::OK();
  };
  BodySink sink = [state, reset, &response_body](std::string_view piece) -> Status {
    if (state->cut) {
      // Truncation drops the rest; a reset never gets here (the sink's error stopped the transfer).
      return Status::OK();
    }
    uint64_t room = state->cut_at - state->delivered;
    if (piece.size() <= room) {
      state->delivered += piece.size();
      return response_body.sink()(piece);
    }
    if (room > 0) {
      // An error of the caller's own sink wins: the fault has not happened yet.
      CAIRN_RETURN_IF_ERROR(response_body.sink()(piece.substr(0, room)));
      state->delivered += room;
    }
    state->cut = true;
    return reset ? AbortedError("fault injector: cut the reply") : Status::OK();
  };
  Result<HttpResponse> result =
      inner_->Send(request, ResponseBody::Stream(std::move(sink), std::move(on_headers)));
  if (!state->cut) return result;
  Count(plan.fault);
  if (reset) {
    return InjectedReset(request,
                         "after " + std::to_string(state->delivered) + " reply body bytes");
  }
  if (result.ok()) result->body_bytes = state->delivered;
  return result;
}

}  // namespace cairn::http
