#include "cairn/common/status.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include "cairn/common/result.h"
#include "cairn/testing/status_matchers.h"

namespace cairn {
namespace {

using ::cairn::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(StatusTest, DefaultIsOk) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kOk);
  EXPECT_EQ(status.message(), "");
  EXPECT_TRUE(status.detail().empty());
  EXPECT_EQ(status.ToString(), "OK");
  EXPECT_OK(status);
  EXPECT_OK(Status::OK());
}

TEST(StatusTest, OkCodeDropsMessage) {
  Status status(StatusCode::kOk, "ignored");
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.message(), "");
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  Status status(StatusCode::kNotFound, "read x: no such block");
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "read x: no such block");
  EXPECT_EQ(status.ToString(), "NOT_FOUND: read x: no such block");
  EXPECT_THAT(status, StatusIs(StatusCode::kNotFound, HasSubstr("no such block")));
}

TEST(StatusTest, FactoriesSetTheirCode) {
  EXPECT_THAT(CancelledError("m"), StatusIs(StatusCode::kCancelled, "m"));
  EXPECT_THAT(UnknownError("m"), StatusIs(StatusCode::kUnknown));
  EXPECT_THAT(InvalidArgumentError("m"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(DeadlineExceededError("m"), StatusIs(StatusCode::kDeadlineExceeded));
  EXPECT_THAT(NotFoundError("m"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(AlreadyExistsError("m"), StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(PermissionDeniedError("m"), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(ResourceExhaustedError("m"), StatusIs(StatusCode::kResourceExhausted));
  EXPECT_THAT(FailedPreconditionError("m"), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(AbortedError("m"), StatusIs(StatusCode::kAborted));
  EXPECT_THAT(OutOfRangeError("m"), StatusIs(StatusCode::kOutOfRange));
  EXPECT_THAT(UnimplementedError("m"), StatusIs(StatusCode::kUnimplemented));
  EXPECT_THAT(InternalError("m"), StatusIs(StatusCode::kInternal));
  EXPECT_THAT(UnavailableError("m"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(DataLossError("m"), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(UnauthenticatedError("m"), StatusIs(StatusCode::kUnauthenticated));
}

TEST(StatusTest, CodeNames) {
  EXPECT_EQ(StatusCodeName(StatusCode::kOk), "OK");
  EXPECT_EQ(StatusCodeName(StatusCode::kInvalidArgument), "INVALID_ARGUMENT");
  EXPECT_EQ(StatusCodeName(StatusCode::kDataLoss), "DATA_LOSS");
  EXPECT_EQ(StatusCodeName(StatusCode::kUnauthenticated), "UNAUTHENTICATED");
  EXPECT_EQ(StatusCodeName(static_cast<StatusCode>(99)), "UNKNOWN_CODE");
}

TEST(StatusTest, ToStringWithDetail) {
  ErrorDetail detail;
  detail.http_status = 503;
  detail.service_code = "SlowDown";
  detail.request_id = "4442587FB7D0A2F9";
  Status status(StatusCode::kUnavailable, "upload part 3 of s3://b/k", detail);
  EXPECT_EQ(status.detail().http_status, 503);
  EXPECT_EQ(status.detail().service_code, "SlowDown");
  EXPECT_EQ(status.ToString(),
            "UNAVAILABLE: upload part 3 of s3://b/k (HTTP 503, SlowDown, request id "
            "4442587FB7D0A2F9)");

  ErrorDetail only_http;
  only_http.http_status = 404;
  EXPECT_EQ(Status(StatusCode::kNotFound, "get k", only_http).ToString(),
            "NOT_FOUND: get k (HTTP 404)");
}

TEST(StatusTest, StreamsToString) {
  std::ostringstream os;
  os << AbortedError("etag changed");
  EXPECT_EQ(os.str(), "ABORTED: etag changed");
}

TEST(StatusTest, WithContextPrependsAndKeepsDetail) {
  ErrorDetail detail;
  detail.http_status = 503;
  Status base(StatusCode::kUnavailable, "SlowDown", detail);
  Status wrapped = base.WithContext("upload part 3");
  EXPECT_THAT(wrapped, StatusIs(StatusCode::kUnavailable, "upload part 3: SlowDown"));
  EXPECT_EQ(wrapped.detail().http_status, 503);
  // The const& overload leaves the original alone.
  EXPECT_EQ(base.message(), "SlowDown");

  Status moved = std::move(base).WithContext("put s3://b/k");
  EXPECT_THAT(moved, StatusIs(StatusCode::kUnavailable, "put s3://b/k: SlowDown"));
  EXPECT_EQ(moved.detail().http_status, 503);
}

TEST(StatusTest, WithContextOnOkStaysOk) {
  EXPECT_OK(Status().WithContext("anything"));
  const Status ok;
  EXPECT_OK(ok.WithContext("anything"));
}

TEST(StatusTest, CopiesAreDeepAndIndependent) {
  ErrorDetail detail;
  detail.request_id = "r1";
  Status original(StatusCode::kDataLoss, "md5 mismatch", detail);
  Status copy = original;
  EXPECT_EQ(copy, original);
  EXPECT_EQ(copy.detail().request_id, "r1");

  copy = std::move(copy).WithContext("block abc");
  EXPECT_EQ(original.message(), "md5 mismatch");
  EXPECT_EQ(copy.message(), "block abc: md5 mismatch");
  EXPECT_NE(copy, original);

  Status assigned;
  assigned = original;
  EXPECT_EQ(assigned, original);
  assigned = Status();
  EXPECT_OK(assigned);
  EXPECT_FALSE(original.ok());

  Status self = original;
  Status& self_ref = self;
  self = self_ref;  // self-assignment keeps the state
  EXPECT_EQ(self, original);
}

TEST(StatusTest, EqualityComparesCodeAndMessage) {
  EXPECT_EQ(Status(), Status::OK());
  EXPECT_NE(Status(), NotFoundError("x"));
  EXPECT_EQ(NotFoundError("x"), NotFoundError("x"));
  EXPECT_NE(NotFoundError("x"), NotFoundError("y"));
  EXPECT_NE(NotFoundError("x"), InternalError("x"));
}

TEST(StatusTest, MoveTransfersError) {
  Status source = InternalError("boom");
  Status target = std::move(source);
  EXPECT_THAT(target, StatusIs(StatusCode::kInternal, "boom"));
}

struct ErrnoCase {
  int err;
  StatusCode code;
};

class ErrnoErrorTest : public ::testing::TestWithParam<ErrnoCase> {};

TEST_P(ErrnoErrorTest, MapsErrnoToCode) {
  const ErrnoCase& c = GetParam();
  Status status = ErrnoError("open /data/x", c.err);
  EXPECT_THAT(status, StatusIs(c.code, StartsWith("open /data/x: ")));
  EXPECT_EQ(status.detail().sys_errno, c.err);
}

INSTANTIATE_TEST_SUITE_P(Codes, ErrnoErrorTest,
                         ::testing::Values(ErrnoCase{ENOENT, StatusCode::kNotFound},
                                           ErrnoCase{ENOTDIR, StatusCode::kNotFound},
                                           ErrnoCase{EACCES, StatusCode::kPermissionDenied},
                                           ErrnoCase{EPERM, StatusCode::kPermissionDenied},
                                           ErrnoCase{EROFS, StatusCode::kPermissionDenied},
                                           ErrnoCase{EEXIST, StatusCode::kAlreadyExists},
                                           ErrnoCase{ENOSPC, StatusCode::kResourceExhausted},
                                           ErrnoCase{EDQUOT, StatusCode::kResourceExhausted},
                                           ErrnoCase{EMFILE, StatusCode::kResourceExhausted},
                                           ErrnoCase{EINTR, StatusCode::kUnavailable},
                                           ErrnoCase{EAGAIN, StatusCode::kUnavailable},
                                           ErrnoCase{ECONNRESET, StatusCode::kUnavailable},
                                           ErrnoCase{ETIMEDOUT, StatusCode::kUnavailable},
                                           ErrnoCase{EINVAL, StatusCode::kInvalidArgument},
                                           ErrnoCase{ENAMETOOLONG, StatusCode::kInvalidArgument},
                                           ErrnoCase{EIO, StatusCode::kUnavailable},
                                           ErrnoCase{EPIPE, StatusCode::kUnknown}));

TEST(ErrnoErrorMessageTest, IncludesStrerrorAndErrno) {
  Status status = ErrnoError("read /data/x", ENOENT);
  EXPECT_EQ(status.message(), "read /data/x: No such file or directory");
  EXPECT_EQ(status.ToString(), "NOT_FOUND: read /data/x: No such file or directory (errno 2)");
}

// --- Result<T> -----------------------------------------------------------------------------------

TEST(ResultTest, HoldsValue) {
  Result<int> result = 42;
  ASSERT_TRUE(result.ok());
  EXPECT_OK(result);
  EXPECT_EQ(result.value(), 42);
  EXPECT_EQ(*result, 42);
  EXPECT_OK(result.status());
  EXPECT_EQ(result.value_or(7), 42);
}

TEST(ResultTest, HoldsError) {
  Result<int> result = NotFoundError("no such key");
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(result, StatusIs(StatusCode::kNotFound, "no such key"));
  EXPECT_EQ(result.value_or(7), 7);
}

TEST(ResultTest, OkStatusWithoutValueBecomesInternal) {
  Result<int> result = Status();
  EXPECT_THAT(result, StatusIs(StatusCode::kInternal));
}

TEST(ResultTest, ConvertsFromCompatibleValue) {
  Result<std::string> result = "abc";
  ASSERT_OK(result);
  EXPECT_EQ(*result, "abc");
  EXPECT_EQ(result->size(), 3u);
}

TEST(ResultTest, MoveOnlyValue) {
  Result<std::unique_ptr<int>> result = std::make_unique<int>(5);
  ASSERT_OK(result);
  std::unique_ptr<int> p = std::move(result).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 5);
}

TEST(ResultTest, CopyKeepsError) {
  Result<int> a = DataLossError("hash mismatch");
  Result<int> b = a;
  EXPECT_THAT(b, StatusIs(StatusCode::kDataLoss, "hash mismatch"));
  EXPECT_THAT(a, StatusIs(StatusCode::kDataLoss, "hash mismatch"));
}

TEST(ResultDeathTest, ValueOnErrorAborts) {
  Result<int> result = NotFoundError("gone");
  EXPECT_DEATH((void)result.value(), "NOT_FOUND: gone");
}

// --- Macros --------------------------------------------------------------------------------------

Status FailIf(bool fail) { return fail ? UnavailableError("flaky") : Status(); }

Status Twice(bool fail_second, int* steps) {
  CAIRN_RETURN_IF_ERROR(FailIf(false));
  ++*steps;
  CAIRN_RETURN_IF_ERROR(FailIf(fail_second));
  ++*steps;
  return Status();
}

TEST(MacroTest, ReturnIfErrorPropagates) {
  int steps = 0;
  EXPECT_OK(Twice(false, &steps));
  EXPECT_EQ(steps, 2);
  steps = 0;
  EXPECT_THAT(Twice(true, &steps), StatusIs(StatusCode::kUnavailable, "flaky"));
  EXPECT_EQ(steps, 1);
}

Result<int> ParsePositive(int x) {
  if (x <= 0) return InvalidArgumentError("not positive: " + std::to_string(x));
  return x;
}

Status CheckViaResult(int x) {
  CAIRN_RETURN_IF_ERROR(ParsePositive(x));
  return Status();
}

TEST(MacroTest, ReturnIfErrorAcceptsResult) {
  EXPECT_OK(CheckViaResult(1));
  EXPECT_THAT(CheckViaResult(-1), StatusIs(StatusCode::kInvalidArgument, "not positive: -1"));
}

Status ContextOnError() {
  CAIRN_RETURN_IF_ERROR(NotFoundError("key k").WithContext("get s3://b"));
  return Status();
}

TEST(MacroTest, ReturnIfErrorWithContext) {
  EXPECT_THAT(ContextOnError(), StatusIs(StatusCode::kNotFound, "get s3://b: key k"));
}

Result<int> SumOfTwo(int a, int b) {
  CAIRN_ASSIGN_OR_RETURN(int x, ParsePositive(a));
  CAIRN_ASSIGN_OR_RETURN(int y, ParsePositive(b));
  return x + y;
}

TEST(MacroTest, AssignOrReturn) {
  ASSERT_OK_AND_ASSIGN(int sum, SumOfTwo(2, 3));
  EXPECT_EQ(sum, 5);
  EXPECT_THAT(SumOfTwo(2, 0), StatusIs(StatusCode::kInvalidArgument, "not positive: 0"));
}

Result<std::unique_ptr<std::string>> MakeBuffer(bool fail) {
  if (fail) return ResourceExhaustedError("no memory for buffer");
  return std::make_unique<std::string>("payload");
}

Result<size_t> BufferSize(bool fail) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<std::string> buffer, MakeBuffer(fail));
  std::unique_ptr<std::string> again;
  CAIRN_ASSIGN_OR_RETURN(again, MakeBuffer(fail));  // assignment to an existing variable
  return buffer->size() + again->size();
}

TEST(MacroTest, AssignOrReturnWithMoveOnlyType) {
  ASSERT_OK_AND_ASSIGN(size_t size, BufferSize(false));
  EXPECT_EQ(size, 14u);
  EXPECT_THAT(BufferSize(true), StatusIs(StatusCode::kResourceExhausted));
}

TEST(MacroTest, AssertOkAndAssignMoveOnly) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<std::string> buffer, MakeBuffer(false));
  EXPECT_EQ(*buffer, "payload");
}

}  // namespace
}  // namespace cairn
