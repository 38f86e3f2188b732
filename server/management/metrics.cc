// /metrics in the Prometheus text format with rabbitmq_prometheus's names: /metrics sums the
// per-object metrics without labels (as RabbitMQ's aggregated endpoint does),
// /metrics/per-object labels them by vhost and queue. burrow_* metrics cover what RabbitMQ
// has no name for: the outbox, the inbox and the store.
#include <sys/resource.h>
#include <unistd.h>

#include <dirent.h>

#include <fstream>
#include <sstream>

#include "broker/broker_core.h"
#include "broker/outbox.h"
#include "server/connection_registry.h"
#include "server/management/api_internal.h"
#include "server/process_stats.h"
#include "server/resource_alarms.h"
#include "server/server_properties.h"

namespace burrow::server::management {

namespace {

class Exposition {
 public:
  // Declares a family once (HELP and TYPE lines).
  void family(const std::string& name, const char* type, const char* help) {
    out_ << "# TYPE " << name << ' ' << type << "\n# HELP " << name << ' ' << help << '\n';
  }
  void sample(const std::string& name, double value, const std::string& labels = "") {
    out_ << name;
    if (!labels.empty()) out_ << '{' << labels << '}';
    out_ << ' ' << value << '\n';
  }
  void metric(const std::string& name, const char* type, const char* help, double value) {
    family(name, type, help);
    sample(name, value);
  }
  std::string str() const { return out_.str(); }

 private:
  std::ostringstream out_;
};

std::string label_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

uint64_t open_fds() {
  uint64_t n = 0;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    while (::readdir(d) != nullptr) ++n;
    ::closedir(d);
  }
  return n > 2 ? n - 2 : 0;  // "." and ".."
}

struct QueueRow {
  std::string vhost;
  std::string name;
  broker::QueueCounts counts;
  broker::QueueCounters counters;
};

}  // namespace

HttpResponse ManagementApi::Impl::metrics(const HttpRequest& request) {
  const bool per_object = request.path == "/metrics/per-object";
  if (request.path != "/metrics" && !per_object) return error_response(not_found_error());
  std::vector<QueueRow> rows;
  for (const auto& vhost : core.vhosts()) {
    for (const auto& q : vhost->queues()) {
      rows.push_back(QueueRow{vhost->name(), q->name(), q->counts(), q->counters()});
    }
  }
  Exposition e;
  e.family("rabbitmq_build_info", "untyped", "RabbitMQ & Erlang/OTP version info");
  e.sample("rabbitmq_build_info", 1,
           "rabbitmq_version=\"3.10.8\",product_name=\"Burrow\",product_version=\"0.6.0\","
           "prometheus_plugin_version=\"3.10.8\",erlang_version=\"none\"");
  e.family("rabbitmq_identity_info", "untyped", "RabbitMQ node & cluster identity info");
  e.sample("rabbitmq_identity_info", 1,
           "rabbitmq_node=\"" + label_value(server_node_name()) + "\",rabbitmq_cluster=\"" +
               label_value(server_node_name()) + "\"");

  // Totals.
  size_t connection_count = 0, channel_count = 0;
  if (connections) {
    for (const auto& c : connections->list()) {
      ++connection_count;
      channel_count += c->channel_count();
    }
  }
  uint64_t consumers = 0;
  for (const auto& r : rows) consumers += r.counts.consumers;
  e.metric("rabbitmq_connections", "gauge", "Connections currently open",
           static_cast<double>(connection_count));
  e.metric("rabbitmq_channels", "gauge", "Channels currently open",
           static_cast<double>(channel_count));
  e.metric("rabbitmq_consumers", "gauge", "Consumers currently connected",
           static_cast<double>(consumers));
  e.metric("rabbitmq_queues", "gauge", "Queues available", static_cast<double>(rows.size()));

  // Queue gauges and counters: one labelled sample per queue, or their sum.
  struct QueueMetric {
    const char* name;
    const char* type;
    const char* help;
    double (*value)(const QueueRow&);
  };
  static const QueueMetric kQueueMetrics[] = {
      {"rabbitmq_queue_messages_ready", "gauge", "Messages ready to be delivered to consumers",
       [](const QueueRow& r) { return static_cast<double>(r.counts.ready); }},
      {"rabbitmq_queue_messages_unacked", "gauge",
       "Messages delivered to consumers but not yet acknowledged",
       [](const QueueRow& r) { return static_cast<double>(r.counts.unacked); }},
      {"rabbitmq_queue_messages", "gauge", "Sum of ready and unacknowledged messages",
       [](const QueueRow& r) { return static_cast<double>(r.counts.ready + r.counts.unacked); }},
      {"rabbitmq_queue_consumers", "gauge", "Consumers on a queue",
       [](const QueueRow& r) { return static_cast<double>(r.counts.consumers); }},
      {"rabbitmq_queue_messages_published_total", "counter",
       "Total number of messages published to queues",
       [](const QueueRow& r) { return static_cast<double>(r.counters.publish); }},
      {"burrow_queue_messages_delivered_total", "counter",
       "Messages delivered to consumers or fetched with basic.get",
       [](const QueueRow& r) {
         return static_cast<double>(r.counters.deliver + r.counters.deliver_no_ack +
                                    r.counters.get + r.counters.get_no_ack);
       }},
      {"burrow_queue_messages_acked_total", "counter", "Messages acknowledged",
       [](const QueueRow& r) { return static_cast<double>(r.counters.ack); }},
      {"burrow_queue_messages_redelivered_total", "counter", "Messages delivered again",
       [](const QueueRow& r) { return static_cast<double>(r.counters.redeliver); }},
      {"burrow_queue_messages_dead_lettered_total", "counter",
       "Messages that left a queue for its dead-letter exchange",
       [](const QueueRow& r) { return static_cast<double>(r.counters.dead_lettered); }},
  };
  for (const auto& m : kQueueMetrics) {
    e.family(m.name, m.type, m.help);
    if (per_object) {
      for (const auto& r : rows) {
        e.sample(m.name, m.value(r),
                 "vhost=\"" + label_value(r.vhost) + "\",queue=\"" + label_value(r.name) + "\"");
      }
    } else {
      double sum = 0;
      for (const auto& r : rows) sum += m.value(r);
      e.sample(m.name, sum);
    }
  }

  // Channel-level totals, as rabbitmq_prometheus names them (summed over queues: every
  // delivery leaves exactly one queue for one channel).
  broker::QueueCounters total;
  for (const auto& r : rows) {
    total.deliver += r.counters.deliver;
    total.deliver_no_ack += r.counters.deliver_no_ack;
    total.get += r.counters.get;
    total.get_no_ack += r.counters.get_no_ack;
    total.get_empty += r.counters.get_empty;
    total.redeliver += r.counters.redeliver;
    total.ack += r.counters.ack;
  }
  const broker::BrokerStats& stats = core.stats();
  auto load = [](const std::atomic<uint64_t>& v) {
    return static_cast<double>(v.load(std::memory_order_relaxed));
  };
  e.metric("rabbitmq_channel_messages_published_total", "counter",
           "Total number of messages published into an exchange on a channel",
           load(stats.messages_published));
  e.metric("rabbitmq_channel_messages_delivered_ack_total", "counter",
           "Total number of messages delivered to consumers in manual acknowledgement mode",
           static_cast<double>(total.deliver));
  e.metric("rabbitmq_channel_messages_delivered_total", "counter",
           "Total number of messages delivered to consumers in automatic acknowledgement mode",
           static_cast<double>(total.deliver_no_ack));
  e.metric("rabbitmq_channel_messages_redelivered_total", "counter",
           "Total number of messages redelivered to consumers",
           static_cast<double>(total.redeliver));
  e.metric("rabbitmq_channel_messages_acked_total", "counter",
           "Total number of messages acknowledged by consumers", static_cast<double>(total.ack));
  e.metric("rabbitmq_channel_get_ack_total", "counter",
           "Total number of messages fetched with basic.get in manual acknowledgement mode",
           static_cast<double>(total.get));
  e.metric("rabbitmq_channel_get_total", "counter",
           "Total number of messages fetched with basic.get in automatic acknowledgement mode",
           static_cast<double>(total.get_no_ack));
  e.metric("rabbitmq_channel_get_empty_total", "counter",
           "Total number of times basic.get operations fetched no message",
           static_cast<double>(total.get_empty));

  // Churn and authentication.
  e.metric("rabbitmq_connections_opened_total", "counter", "Total number of connections opened",
           load(stats.connections_opened));
  e.metric("rabbitmq_connections_closed_total", "counter", "Total number of connections closed",
           load(stats.connections_closed));
  e.metric("rabbitmq_channels_opened_total", "counter", "Total number of channels opened",
           load(stats.channels_opened));
  e.metric("rabbitmq_channels_closed_total", "counter", "Total number of channels closed",
           load(stats.channels_closed));
  e.family("rabbitmq_auth_attempts_total", "counter", "Total number of authentication attempts");
  e.sample("rabbitmq_auth_attempts_total", load(stats.auth_attempts), "protocol=\"amqp091\"");
  e.family("rabbitmq_auth_attempts_failed_total", "counter",
           "Total number of failed authentication attempts");
  e.sample("rabbitmq_auth_attempts_failed_total", load(stats.auth_failed), "protocol=\"amqp091\"");

  // Alarms.
  ResourceAlarms* alarms = options.alarms;
  e.metric("rabbitmq_alarms_memory_used_watermark", "gauge",
           "is 1 if VM memory watermark alarm is in effect",
           alarms && alarms->memory_alarm() ? 1 : 0);
  e.metric("rabbitmq_alarms_free_disk_space_watermark", "gauge",
           "is 1 if free disk space watermark alarm is in effect",
           alarms && alarms->disk_alarm() ? 1 : 0);
  if (alarms) {
    e.metric("rabbitmq_resident_memory_limit_bytes", "gauge", "Memory high watermark in bytes",
             static_cast<double>(alarms->memory_limit()));
    e.metric("rabbitmq_disk_space_available_limit_bytes", "gauge",
             "Free disk space low watermark in bytes",
             static_cast<double>(alarms->disk_free_limit()));
  }

  // The process.
  struct rlimit files {};
  ::getrlimit(RLIMIT_NOFILE, &files);
  e.metric("rabbitmq_process_resident_memory_bytes", "gauge", "Memory used in bytes",
           static_cast<double>(resident_memory_bytes()));
  e.metric("rabbitmq_process_open_fds", "gauge", "Open file descriptors",
           static_cast<double>(open_fds()));
  e.metric("rabbitmq_process_max_fds", "gauge", "Open file descriptors limit",
           static_cast<double>(files.rlim_cur));
  if (auto free = disk_free_bytes(core.options().in_memory ? "." : core.options().data_dir)) {
    e.metric("rabbitmq_disk_space_available_bytes", "gauge", "Disk space available in bytes",
             static_cast<double>(*free));
  }
  e.metric("burrow_uptime_seconds", "gauge", "Seconds since the broker started",
           static_cast<double>(SystemClock::instance().now_ms() - core.started_at()) / 1000.0);

  // The outbox and inbox.
  const OutboxStats outbox = core.outbox().stats();
  e.metric("burrow_outbox_pending_rows", "gauge", "Committed outbox rows not relayed yet",
           static_cast<double>(outbox.pending));
  e.metric("burrow_outbox_parked_rows", "gauge", "Outbox rows the relay gave up on",
           static_cast<double>(outbox.parked));
  e.metric("burrow_outbox_committed_total", "counter", "Outbox rows committed",
           static_cast<double>(outbox.committed));
  e.metric("burrow_outbox_sent_total", "counter", "Outbox rows relayed",
           static_cast<double>(outbox.sent));
  e.metric("burrow_outbox_retried_total", "counter", "Failed relay attempts that were retried",
           static_cast<double>(outbox.retried));
  e.metric("burrow_inbox_processed_total", "counter", "Inbox deliveries whose handler committed",
           static_cast<double>(outbox.inbox_processed));
  e.metric("burrow_inbox_duplicates_total", "counter",
           "Inbox deliveries acknowledged as already processed",
           static_cast<double>(outbox.inbox_duplicates));

  // The store.
  const storage::StoreStats store = core.store().stats();
  e.metric("burrow_store_writes_total", "counter", "Store writes completed",
           static_cast<double>(store.writes));
  e.metric("burrow_store_write_batches_total", "counter", "Group commits (one WAL write each)",
           static_cast<double>(store.write_batches));
  e.metric("burrow_store_bytes_written_total", "counter", "Key and value bytes committed",
           static_cast<double>(store.bytes_written));
  e.metric("burrow_store_fsyncs_total", "counter", "WAL fsyncs", static_cast<double>(store.fsyncs));
  e.family("burrow_store_fsync_seconds", "summary", "Latency of WAL fsyncs");
  e.sample("burrow_store_fsync_seconds_sum", static_cast<double>(store.fsync_micros.sum()) / 1e6);
  e.sample("burrow_store_fsync_seconds_count", static_cast<double>(store.fsync_micros.count()));
  e.metric("burrow_store_disk_bytes", "gauge", "Bytes of table and log files on disk",
           static_cast<double>(store.sst_bytes + store.wal_bytes));
  e.metric("burrow_store_failed", "gauge", "1 once a store write failed", store.failed ? 1.0 : 0.0);

  HttpResponse r;
  r.body = e.str();
  r.content_type = "text/plain; version=0.0.4";
  return r;
}

}  // namespace burrow::server::management
