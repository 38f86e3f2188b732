// Tests for the Status -> AMQP reply table (base/reply.h): one row per StatusCode, the
// channel/connection scope of each reply code, and RabbitMQ's reply-text rules.
#include "base/reply.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace burrow {
namespace {

struct Row {
  StatusCode code;
  uint16_t reply_code;
  ReplyScope scope;
  const char* name;  // the NAME in "NAME - message"
};

constexpr ReplyScope kChannel = ReplyScope::kChannel;
constexpr ReplyScope kConnection = ReplyScope::kConnection;

// Soft errors (311-313, 403-406) close the channel; every other code closes the connection;
// codes without an AMQP equivalent become 541 INTERNAL_ERROR.
const Row kRows[] = {
    {StatusCode::kContentTooLarge, 311, kChannel, "CONTENT_TOO_LARGE"},
    {StatusCode::kNoRoute, 312, kChannel, "NO_ROUTE"},
    {StatusCode::kNoConsumers, 313, kChannel, "NO_CONSUMERS"},
    {StatusCode::kConnectionForced, 320, kConnection, "CONNECTION_FORCED"},
    {StatusCode::kInvalidPath, 402, kConnection, "INVALID_PATH"},
    {StatusCode::kAccessRefused, 403, kChannel, "ACCESS_REFUSED"},
    {StatusCode::kNotFound, 404, kChannel, "NOT_FOUND"},
    {StatusCode::kResourceLocked, 405, kChannel, "RESOURCE_LOCKED"},
    {StatusCode::kPreconditionFailed, 406, kChannel, "PRECONDITION_FAILED"},
    {StatusCode::kFrameError, 501, kConnection, "FRAME_ERROR"},
    {StatusCode::kSyntaxError, 502, kConnection, "SYNTAX_ERROR"},
    {StatusCode::kCommandInvalid, 503, kConnection, "COMMAND_INVALID"},
    {StatusCode::kChannelError, 504, kConnection, "CHANNEL_ERROR"},
    {StatusCode::kUnexpectedFrame, 505, kConnection, "UNEXPECTED_FRAME"},
    {StatusCode::kResourceError, 506, kConnection, "RESOURCE_ERROR"},
    {StatusCode::kNotAllowed, 530, kConnection, "NOT_ALLOWED"},
    {StatusCode::kNotImplemented, 540, kConnection, "NOT_IMPLEMENTED"},
    {StatusCode::kInternalError, 541, kConnection, "INTERNAL_ERROR"},
    {StatusCode::kInvalidArgument, 541, kConnection, "INTERNAL_ERROR"},
    {StatusCode::kIoError, 541, kConnection, "INTERNAL_ERROR"},
    {StatusCode::kCorruption, 541, kConnection, "INTERNAL_ERROR"},
    {StatusCode::kBusy, 541, kConnection, "INTERNAL_ERROR"},
    {StatusCode::kClosed, 541, kConnection, "INTERNAL_ERROR"},
    {StatusCode::kTimedOut, 541, kConnection, "INTERNAL_ERROR"},
};

class ReplyTable : public ::testing::TestWithParam<Row> {};

TEST_P(ReplyTable, MapsCodeScopeAndText) {
  const Row& row = GetParam();
  Reply reply = reply_for(Status(row.code, "the message"));
  EXPECT_EQ(reply.code, row.reply_code);
  EXPECT_EQ(reply.scope, row.scope);
  EXPECT_EQ(reply.text, std::string(row.name) + " - the message");
}

INSTANTIATE_TEST_SUITE_P(EveryStatusCode, ReplyTable, ::testing::ValuesIn(kRows),
                         [](const ::testing::TestParamInfo<Row>& row_info) {
                           return std::string(status_code_name(row_info.param.code));
                         });

TEST(ReplyFor, EveryErrorCodeHasARow) {
  // Walks the whole code space so a code added to StatusCode without a row fails here.
  for (int c = 1; c <= 0xffff; ++c) {
    auto code = static_cast<StatusCode>(c);
    if (status_code_name(code) == "UNKNOWN") continue;
    bool found = false;
    for (const Row& row : kRows) found = found || row.code == code;
    EXPECT_TRUE(found) << "no reply row for " << status_code_name(code);
  }
}

TEST(ReplyFor, RabbitMqTextForNotFound) {
  Reply reply = reply_for(not_found("no queue 'q' in vhost '/'"));
  EXPECT_EQ(reply.code, 404);
  EXPECT_EQ(reply.scope, ReplyScope::kChannel);
  EXPECT_EQ(reply.text, "NOT_FOUND - no queue 'q' in vhost '/'");
}

TEST(ReplyFor, StorageErrorsCloseTheConnectionAsInternalError) {
  Reply reply = reply_for(Status(StatusCode::kIoError, "fsync failed"));
  EXPECT_EQ(reply.code, 541);
  EXPECT_EQ(reply.scope, ReplyScope::kConnection);
  EXPECT_TRUE(reply.text.starts_with("INTERNAL_ERROR")) << reply.text;
}

TEST(ReplyFor, TextOfExactly255BytesIsKept) {
  std::string message(255 - std::string("NOT_FOUND - ").size(), 'a');
  Reply reply = reply_for(not_found(message));
  EXPECT_EQ(reply.text.size(), 255u);
  EXPECT_EQ(reply.text, "NOT_FOUND - " + message);
}

TEST(ReplyFor, LongTextIsTruncatedTo255Bytes) {
  std::string message(400, 'a');
  Reply reply = reply_for(not_found(message));
  EXPECT_EQ(reply.code, 404);
  EXPECT_EQ(reply.text.size(), 255u);
  EXPECT_TRUE(reply.text.starts_with("NOT_FOUND - aaaa")) << reply.text;
}

// Regression test, fixed (was: base/reply.cc, reply_for): RabbitMQ (rabbit_binary_generator:
// amqp_exception_explanation) cuts an over-long reply text to its first 252 bytes and appends
// "...", so a client can tell the text was cut. Burrow cuts at 255 bytes with no marker.
TEST(ReplyFor, TruncatedTextEndsWithEllipsisAsRabbitMq) {
  std::string message(400, 'a');
  Reply reply = reply_for(not_found(message));
  std::string full = "NOT_FOUND - " + message;
  EXPECT_EQ(reply.text, full.substr(0, 252) + "...")
      << "BUG: RabbitMQ truncates reply texts to 252 bytes + \"...\"";
}

TEST(ReplyScope, SoftCodesCloseTheChannel) {
  for (uint16_t code : {311, 312, 313, 403, 404, 405, 406}) {
    EXPECT_EQ(reply_scope(code), ReplyScope::kChannel) << code;
  }
}

TEST(ReplyScope, HardCodesCloseTheConnection) {
  for (uint16_t code : {320, 402, 501, 502, 503, 504, 505, 506, 530, 540, 541}) {
    EXPECT_EQ(reply_scope(code), ReplyScope::kConnection) << code;
  }
}

}  // namespace
}  // namespace burrow
