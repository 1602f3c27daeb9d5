// GoogleTest helpers for Status and Result<T>:
//   ASSERT_OK(expr); EXPECT_OK(expr);             expr is a Status or a Result<T>
//   EXPECT_THAT(expr, StatusIs(StatusCode::kNotFound));
//   EXPECT_THAT(expr, StatusIs(StatusCode::kInvalidArgument, HasSubstr("line 3")));
//   ASSERT_OK_AND_ASSIGN(auto value, ResultReturningCall());
#ifndef CAIRN_TESTING_STATUS_MATCHERS_H_
#define CAIRN_TESTING_STATUS_MATCHERS_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "cairn/common/result.h"
#include "cairn/common/status.h"

namespace cairn {
// Lets GoogleTest print codes by name.
inline void PrintTo(StatusCode code, std::ostream* os) { *os << StatusCodeName(code); }
}  // namespace cairn

namespace cairn::testing {

inline const Status& GetStatus(const Status& status) { return status; }
template <typename T>
Status GetStatus(const Result<T>& result) {
  return result.status();
}

MATCHER_P2(StatusIsImpl, code, message_matcher, "") {
  Status status = ::cairn::testing::GetStatus(arg);
  if (status.code() != code) {
    *result_listener << "status is " << status.ToString();
    return false;
  }
  return ::testing::ExplainMatchResult(message_matcher, std::string(status.message()),
                                       result_listener);
}

inline auto StatusIs(StatusCode code) { return StatusIsImpl(code, ::testing::_); }
template <typename M>
auto StatusIs(StatusCode code, M message_matcher) {
  return StatusIsImpl(code, ::testing::MatcherCast<std::string>(message_matcher));
}

}  // namespace cairn::testing

#define ASSERT_OK(expr) ASSERT_EQ(::cairn::testing::GetStatus(expr), ::cairn::Status())
#define EXPECT_OK(expr) EXPECT_EQ(::cairn::testing::GetStatus(expr), ::cairn::Status())

#define ASSERT_OK_AND_ASSIGN(lhs, rexpr) \
  ASSERT_OK_AND_ASSIGN_IMPL_(CAIRN_STATUS_CONCAT_(cairn_test_result_, __LINE__), lhs, rexpr)
#define ASSERT_OK_AND_ASSIGN_IMPL_(result, lhs, rexpr)    \
  auto result = (rexpr);                                  \
  ASSERT_TRUE(result.ok()) << result.status().ToString(); \
  lhs = std::move(result).value()

#endif  // CAIRN_TESTING_STATUS_MATCHERS_H_
