// Dead-letter messages and cycle detection (rabbit_dead_letter.erl, 3.10).
#include "broker/dead_letter.h"

#include <algorithm>
#include <utility>

namespace burrow::broker {

namespace {

const std::string* string_field(const FieldTable& table, std::string_view key) {
  const FieldValue* v = table.find(key);
  return v ? v->get_if<std::string>() : nullptr;
}

// The CC and BCC keys of a headers table (rabbit_basic:header_routes/1).
void header_routes(const FieldTable* headers, std::vector<std::string>& keys) {
  if (headers == nullptr) return;
  for (const char* name : {"CC", "BCC"}) {
    const FieldValue* v = headers->find(name);
    const FieldArray* arr = v ? v->get_if<FieldArray>() : nullptr;
    if (arr == nullptr) continue;
    for (const FieldValue& k : *arr) {
      if (const std::string* s = k.get_if<std::string>()) keys.push_back(*s);
    }
  }
}

// rabbit_misc:set_table_value/4: replace the entry in place, or append it.
void set_value(FieldTable& table, std::string name, FieldValue value) {
  table.set(std::move(name), std::move(value));
}

FieldTable sorted(FieldTable table) {
  std::stable_sort(table.entries().begin(), table.entries().end(),
                   [](const FieldEntry& a, const FieldEntry& b) { return a.name < b.name; });
  return table;
}

int64_t count_of(const FieldTable& death) {
  const FieldValue* v = death.find("count");
  auto n = v ? v->as_integer() : std::nullopt;
  return n.value_or(0);
}

// group_by_queue_and_reason/1: deaths for the same queue and reason (x-death arrays written
// before RabbitMQ grouped them) become the first of them; one without a count gets the number
// of entries it stands for (ensure_xdeath_event_count/2), one with a count keeps it.
std::vector<FieldValue> group_by_queue_and_reason(const FieldArray& deaths) {
  std::vector<FieldValue> out;
  std::vector<int64_t> sizes;
  for (const FieldValue& d : deaths) {
    const FieldTable* t = d.get_if<FieldTable>();
    if (t == nullptr) continue;
    const std::string* q = string_field(*t, "queue");
    const std::string* r = string_field(*t, "reason");
    size_t i = 0;
    for (; i < out.size(); ++i) {
      const FieldTable& ot = *std::as_const(out[i]).get_if<FieldTable>();
      const std::string* oq = string_field(ot, "queue");
      const std::string* orr = string_field(ot, "reason");
      if (oq && orr && q && r && *oq == *q && *orr == *r) break;
    }
    if (i == out.size()) {
      out.push_back(d);
      sizes.push_back(1);
    } else {
      ++sizes[i];
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    FieldTable& t = *out[i].get_if<FieldTable>();
    if (!t.contains("count")) {
      t.entries().insert(t.entries().begin(), FieldEntry{"count", sizes[i]});
    }
  }
  return out;
}

}  // namespace

DeadLetterMessage make_dead_letter_message(const StoredMessage& message, DeathReason reason,
                                           const DeadLetterTarget& target, int64_t now_seconds) {
  auto dl = std::make_shared<StoredMessage>(message);
  dl->wire_properties.clear();
  BasicProperties& props = dl->message.properties;
  const FieldTable* old_headers =
      message.message.properties.headers ? &*message.message.properties.headers : nullptr;

  // Routing keys of this life: the publish key plus CC and BCC.
  std::vector<std::string> life_keys{message.message.routing_key};
  header_routes(old_headers, life_keys);
  for (const std::string& k : message.bcc_keys) life_keys.push_back(k);

  // The death record; "routing-keys" holds the publish key and the CC keys still in the
  // headers (BCC was removed at publish).
  FieldArray rks;
  rks.push_back(message.message.routing_key);
  {
    std::vector<std::string> cc;
    header_routes(old_headers, cc);
    for (auto& k : cc) rks.push_back(std::move(k));
  }
  const std::string reason_name(death_reason_name(reason));
  FieldTable info{
      {"reason", reason_name},
      {"queue", std::string(target.queue)},
      {"time", Timestamp{static_cast<uint64_t>(now_seconds)}},
      {"exchange", message.message.exchange},
      {"routing-keys", rks},
  };
  if (props.expiration)
    info.entries().push_back(FieldEntry{"original-expiration", *props.expiration});

  FieldTable headers = old_headers ? *old_headers : FieldTable{};
  const FieldValue* x_death = headers.find("x-death");
  auto with_count = [](int64_t count, const FieldTable& rest) {
    FieldTable t;
    t.entries().push_back(FieldEntry{"count", count});
    for (const auto& e : rest.entries()) t.entries().push_back(e);
    return t;
  };
  if (x_death == nullptr) {
    // The first death also gets top-level headers (rabbitmq-server#1332).
    set_value(headers, "x-first-death-reason", reason_name);
    set_value(headers, "x-first-death-queue", std::string(target.queue));
    set_value(headers, "x-first-death-exchange", message.message.exchange);
    set_value(headers, "x-death", FieldArray{FieldValue(with_count(1, info))});
  } else if (const FieldArray* deaths = x_death->get_if<FieldArray>()) {
    std::vector<FieldValue> grouped = group_by_queue_and_reason(*deaths);
    FieldArray others;
    std::optional<FieldTable> match;
    for (FieldValue& d : grouped) {
      const FieldTable& t = *d.get_if<FieldTable>();
      const std::string* q = string_field(t, "queue");
      const std::string* r = string_field(t, "reason");
      if (!match && q && r && *q == target.queue && *r == reason_name) {
        match = t;
      } else {
        others.push_back(std::move(d));
      }
    }
    FieldTable entry;
    if (match) {
      // Only the count changes; the entry moves to the front.
      entry = *match;
      if (entry.contains("count")) {
        entry.set("count", count_of(entry) + 1);
      } else {
        entry = with_count(1, entry);
      }
    } else {
      entry = with_count(1, info);
    }
    FieldArray updated;
    updated.push_back(sorted(std::move(entry)));
    for (auto& o : others) updated.push_back(std::move(o));
    set_value(headers, "x-death", std::move(updated));
  } else {
    // Not an array (a client rewrote it): reset it.
    set_value(headers, "x-death", FieldArray{FieldValue(with_count(1, info))});
  }

  DeadLetterMessage out;
  if (target.routing_key) {
    out.routing_keys.push_back(*target.routing_key);
    headers.erase("CC");
  } else {
    out.routing_keys = std::move(life_keys);
  }
  // RabbitMQ writes the changed header table sorted by name (rabbit_basic:map_headers).
  props.headers = sorted(std::move(headers));
  props.expiration.reset();
  dl->message.exchange.assign(target.exchange);
  dl->message.routing_key = out.routing_keys.front();
  dl->bcc_keys.clear();
  out.message = std::move(dl);
  return out;
}

bool is_dead_letter_cycle(const StoredMessage& message, std::string_view queue) {
  const auto& headers = message.message.properties.headers;
  if (!headers) return false;
  const FieldValue* x_death = headers->find("x-death");
  const FieldArray* deaths = x_death ? x_death->get_if<FieldArray>() : nullptr;
  if (deaths == nullptr) return false;
  // The deaths up to and including the last one in `queue` (newest first) must all be
  // automatic: a "rejected" one (or anything unexpected) breaks the cycle.
  for (const FieldValue& d : *deaths) {
    const FieldTable* t = d.get_if<FieldTable>();
    if (t == nullptr) return false;
    const std::string* reason = string_field(*t, "reason");
    if (reason != nullptr && *reason == "rejected") return false;
    const std::string* q = string_field(*t, "queue");
    if (q != nullptr && *q == queue) return true;
  }
  return false;
}

}  // namespace burrow::broker
