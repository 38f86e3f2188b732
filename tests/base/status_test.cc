// Tests for Status, Result<T> and the RETURN_IF_ERROR / ASSIGN_OR_RETURN macros.
#include <burrow/status.h>

#include <memory>
#include <string>
#include <utility>

#include <gtest/gtest.h>

#include "base/status_macros.h"

namespace burrow {
namespace {

TEST(Status, DefaultIsOk) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.to_string(), "OK");
  EXPECT_TRUE(Status::ok_status().ok());
}

TEST(Status, ErrorCarriesCodeAndMessage) {
  Status s(StatusCode::kNotFound, "no queue 'q' in vhost '/'");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "no queue 'q' in vhost '/'");
}

TEST(Status, ToStringPrefixesTheCodeName) {
  EXPECT_EQ(Status(StatusCode::kNotFound, "no queue 'q' in vhost '/'").to_string(),
            "NOT_FOUND: no queue 'q' in vhost '/'");
  EXPECT_EQ(Status(StatusCode::kIoError, "disk gone").to_string(), "IO_ERROR: disk gone");
}

TEST(Status, OkCodeWithMessageIsPlainOk) {
  Status s(StatusCode::kOk, "ignored");
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s, Status());
}

TEST(Status, CopyIsIndependentOfTheOriginal) {
  Status a(StatusCode::kPreconditionFailed, "first");
  Status b = a;
  EXPECT_EQ(a, b);
  b = Status(StatusCode::kNotFound, "second");
  EXPECT_EQ(a.code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(a.message(), "first");
  EXPECT_EQ(b.code(), StatusCode::kNotFound);
  EXPECT_EQ(b.message(), "second");
}

TEST(Status, CopyAssignmentReplacesAndClears) {
  Status a(StatusCode::kAccessRefused, "x");
  Status c;
  c = a;
  EXPECT_EQ(c, a);
  c = Status();
  EXPECT_TRUE(c.ok());
  EXPECT_EQ(c.message(), "");
  const Status& same = a;
  a = same;  // self-assignment keeps the value
  EXPECT_EQ(a.code(), StatusCode::kAccessRefused);
  EXPECT_EQ(a.message(), "x");
}

TEST(Status, MoveTransfersTheError) {
  Status a(StatusCode::kResourceLocked, "locked");
  Status b = std::move(a);
  EXPECT_EQ(b.code(), StatusCode::kResourceLocked);
  EXPECT_EQ(b.message(), "locked");
  Status c;
  c = std::move(b);
  EXPECT_EQ(c.code(), StatusCode::kResourceLocked);
}

TEST(Status, EqualityComparesCodeAndMessage) {
  EXPECT_EQ(not_found("a"), not_found("a"));
  EXPECT_NE(not_found("a"), not_found("b"));
  EXPECT_NE(not_found("a"), access_refused("a"));
  EXPECT_NE(not_found(""), Status());
}

TEST(Status, CodeNamesAreRabbitMqs) {
  const std::pair<StatusCode, std::string_view> kNames[] = {
      {StatusCode::kOk, "OK"},
      {StatusCode::kContentTooLarge, "CONTENT_TOO_LARGE"},
      {StatusCode::kNoRoute, "NO_ROUTE"},
      {StatusCode::kNoConsumers, "NO_CONSUMERS"},
      {StatusCode::kConnectionForced, "CONNECTION_FORCED"},
      {StatusCode::kInvalidPath, "INVALID_PATH"},
      {StatusCode::kAccessRefused, "ACCESS_REFUSED"},
      {StatusCode::kNotFound, "NOT_FOUND"},
      {StatusCode::kResourceLocked, "RESOURCE_LOCKED"},
      {StatusCode::kPreconditionFailed, "PRECONDITION_FAILED"},
      {StatusCode::kFrameError, "FRAME_ERROR"},
      {StatusCode::kSyntaxError, "SYNTAX_ERROR"},
      {StatusCode::kCommandInvalid, "COMMAND_INVALID"},
      {StatusCode::kChannelError, "CHANNEL_ERROR"},
      {StatusCode::kUnexpectedFrame, "UNEXPECTED_FRAME"},
      {StatusCode::kResourceError, "RESOURCE_ERROR"},
      {StatusCode::kNotAllowed, "NOT_ALLOWED"},
      {StatusCode::kNotImplemented, "NOT_IMPLEMENTED"},
      {StatusCode::kInternalError, "INTERNAL_ERROR"},
      {StatusCode::kInvalidArgument, "INVALID_ARGUMENT"},
      {StatusCode::kIoError, "IO_ERROR"},
      {StatusCode::kCorruption, "CORRUPTION"},
      {StatusCode::kBusy, "BUSY"},
      {StatusCode::kClosed, "CLOSED"},
      {StatusCode::kTimedOut, "TIMED_OUT"},
  };
  for (const auto& [code, name] : kNames) {
    EXPECT_EQ(status_code_name(code), name) << static_cast<int>(code);
  }
  EXPECT_EQ(status_code_name(static_cast<StatusCode>(999)), "UNKNOWN");
}

TEST(Status, AmqpCodesKeepTheirReplyCodeValues) {
  EXPECT_EQ(static_cast<int>(StatusCode::kNoRoute), 312);
  EXPECT_EQ(static_cast<int>(StatusCode::kAccessRefused), 403);
  EXPECT_EQ(static_cast<int>(StatusCode::kNotFound), 404);
  EXPECT_EQ(static_cast<int>(StatusCode::kResourceLocked), 405);
  EXPECT_EQ(static_cast<int>(StatusCode::kPreconditionFailed), 406);
  EXPECT_EQ(static_cast<int>(StatusCode::kCommandInvalid), 503);
  EXPECT_EQ(static_cast<int>(StatusCode::kNotAllowed), 530);
  EXPECT_EQ(static_cast<int>(StatusCode::kNotImplemented), 540);
  EXPECT_EQ(static_cast<int>(StatusCode::kInternalError), 541);
}

TEST(Status, ShorthandsBuildTheirCodes) {
  EXPECT_EQ(not_found("m"), Status(StatusCode::kNotFound, "m"));
  EXPECT_EQ(access_refused("m"), Status(StatusCode::kAccessRefused, "m"));
  EXPECT_EQ(resource_locked("m"), Status(StatusCode::kResourceLocked, "m"));
  EXPECT_EQ(precondition_failed("m"), Status(StatusCode::kPreconditionFailed, "m"));
  EXPECT_EQ(command_invalid("m"), Status(StatusCode::kCommandInvalid, "m"));
  EXPECT_EQ(channel_error("m"), Status(StatusCode::kChannelError, "m"));
  EXPECT_EQ(not_allowed("m"), Status(StatusCode::kNotAllowed, "m"));
  EXPECT_EQ(not_implemented("m"), Status(StatusCode::kNotImplemented, "m"));
  EXPECT_EQ(internal_error("m"), Status(StatusCode::kInternalError, "m"));
  EXPECT_EQ(invalid_argument("m"), Status(StatusCode::kInvalidArgument, "m"));
}

// ---- Result<T> ---------------------------------------------------------------------------

TEST(Result, HoldsAValue) {
  Result<int> r = 42;
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(*r, 42);
  EXPECT_TRUE(r.status().ok());
}

TEST(Result, HoldsAnError) {
  Result<int> r = not_found("no queue 'q' in vhost '/'");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(), "no queue 'q' in vhost '/'");
}

TEST(Result, OkStatusBecomesAnInternalError) {
  Result<int> r = Status();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternalError);
  EXPECT_EQ(r.status().message(), "OK status in Result");
}

TEST(Result, ConvertsFromAConvertibleValue) {
  Result<std::string> r = "abc";
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "abc");
  EXPECT_EQ(r->size(), 3u);
}

TEST(Result, ValueIsMutableAndMovable) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r.ok());
  **r = 8;
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 8);
}

TEST(Result, StatusOfAnErrorIsACopy) {
  Result<int> r = precondition_failed("x");
  Status s = r.status();
  s = Status();
  EXPECT_EQ(r.status(), precondition_failed("x"));
}

// ---- macros ------------------------------------------------------------------------------

Status fail_if(bool fail) { return fail ? precondition_failed("boom") : Status(); }

Status step_twice(bool fail_second, int& steps) {
  RETURN_IF_ERROR(fail_if(false));
  ++steps;
  RETURN_IF_ERROR(fail_if(fail_second));
  ++steps;
  return Status();
}

TEST(StatusMacros, ReturnIfErrorPassesOkThrough) {
  int steps = 0;
  EXPECT_TRUE(step_twice(false, steps).ok());
  EXPECT_EQ(steps, 2);
}

TEST(StatusMacros, ReturnIfErrorReturnsTheErrorEarly) {
  int steps = 0;
  EXPECT_EQ(step_twice(true, steps), precondition_failed("boom"));
  EXPECT_EQ(steps, 1);
}

Result<int> parse(bool fail) {
  if (fail) return not_found("nope");
  return 21;
}

Result<int> doubled(bool fail) {
  ASSIGN_OR_RETURN(int v, parse(fail));
  return v * 2;
}

TEST(StatusMacros, AssignOrReturnAssignsTheValue) {
  Result<int> r = doubled(false);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 42);
}

TEST(StatusMacros, AssignOrReturnReturnsTheError) {
  Result<int> r = doubled(true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status(), not_found("nope"));
}

Result<std::unique_ptr<int>> make_ptr(int v) { return std::make_unique<int>(v); }

Status sum_two(int& out) {
  ASSIGN_OR_RETURN(std::unique_ptr<int> a, make_ptr(1));
  ASSIGN_OR_RETURN(auto b, make_ptr(2));  // a second use in the same scope
  out = *a + *b;
  return Status();
}

TEST(StatusMacros, AssignOrReturnWorksWithMoveOnlyValuesTwiceInAScope) {
  int out = 0;
  ASSERT_TRUE(sum_two(out).ok());
  EXPECT_EQ(out, 3);
}

Status assign_existing(bool fail, int& target) {
  ASSIGN_OR_RETURN(target, parse(fail));
  return Status();
}

TEST(StatusMacros, AssignOrReturnAssignsToAnExistingVariable) {
  int target = 0;
  ASSERT_TRUE(assign_existing(false, target).ok());
  EXPECT_EQ(target, 21);
  target = 5;
  EXPECT_EQ(assign_existing(true, target).code(), StatusCode::kNotFound);
  EXPECT_EQ(target, 5);
}

}  // namespace
}  // namespace burrow
