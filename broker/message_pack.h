// Two encodings of a StoredMessage: the store's record (storage/records.proto, for what is
// persisted) and the packed form a queue keeps for messages deep in its backlog
// (ClassicQueue, PackLog): about 30 B besides the body for a plain message, against about
// 700 B for a StoredMessage with its allocations.
#pragma once

#include <string>
#include <string_view>

#include <burrow/status.h>

#include "broker/stored_message.h"

namespace burrow::storage {
class MessageRecord;
}  // namespace burrow::storage

namespace burrow::broker {

// The store's record of `message`: exchange, routing key, properties, publish time and BCC
// keys (not the fields that depend on where it is kept).
void fill_record(const StoredMessage& message, storage::MessageRecord& record);
// The broker's message from a record and its body. Errors: kCorruption for bad properties.
Result<StoredMessagePtr> message_from_record(const storage::MessageRecord& record,
                                             std::string_view body);

// The packed bytes of `message`, replacing `out`'s contents. In memory only (never stored),
// so the format may change with any release. The wire form of the properties is not kept: an
// adapter encodes them again when it delivers.
void pack_message(const StoredMessage& message, std::string& out);
// Errors: kCorruption (only if the bytes were damaged in memory).
Result<StoredMessagePtr> unpack_message(std::string_view packed);

}  // namespace burrow::broker
