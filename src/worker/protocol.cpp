#include "worker/protocol.h"

namespace kem::worker {
namespace {

void put_ms(Writer& w, std::chrono::milliseconds v) { w.u64(static_cast<uint64_t>(v.count())); }
std::chrono::milliseconds get_ms(Reader& r) { return std::chrono::milliseconds(static_cast<int64_t>(r.u64())); }

void put(Writer& w, const Executor::Stats& s) {
  for (uint64_t v : {s.calls, s.errors, s.pipeline_hits, s.pipeline_misses, s.device_losses, s.submissions, s.refused})
    w.u64(v);
}
Executor::Stats get_executor_stats(Reader& r) {
  Executor::Stats s;
  for (uint64_t* v : {&s.calls, &s.errors, &s.pipeline_hits, &s.pipeline_misses, &s.device_losses, &s.submissions,
                      &s.refused})
    *v = r.u64();
  return s;
}

}  // namespace

void put(Writer& w, const Placement& p) {
  w.boolean(p.in_arena);
  w.u64(p.arena);
  w.u64(p.offset);
  w.u64(p.size);
}

Placement get_placement(Reader& r) {
  Placement p;
  p.in_arena = r.boolean();
  p.arena = r.u64();
  p.offset = r.u64();
  p.size = r.u64();
  return p;
}

void put(Writer& w, const CallMessage& c) {
  w.u64(c.kernel);
  w.text(c.entry);
  put(w, c.input);
  put(w, c.params);
  put(w, c.output);
  w.bytes(c.inline_input);
  w.bytes(c.inline_params);
  w.u64(c.output_size_hint);
  w.optional(c.output_size, &Writer::u64);
  w.boolean(c.workgroups.has_value());
  if (c.workgroups)
    for (uint32_t v : *c.workgroups) w.u32(v);
  w.u64(c.deadline_ns);
  w.boolean(c.capped);
  w.optional(c.loop_budget, &Writer::u64);
  w.boolean(c.unmetered);
  w.u64(c.overrides.size());
  for (const auto& [name, value] : c.overrides) {
    w.text(name);
    w.f64(value);
  }
}

CallMessage get_call(Reader& r) {
  CallMessage c;
  c.kernel = r.u64();
  c.entry = std::string(r.text());
  c.input = get_placement(r);
  c.params = get_placement(r);
  c.output = get_placement(r);
  c.inline_input = r.bytes();
  c.inline_params = r.bytes();
  c.output_size_hint = r.u64();
  c.output_size = r.optional(&Reader::u64);
  if (r.boolean()) {
    std::array<uint32_t, 3> g{};
    for (uint32_t& v : g) v = r.u32();
    c.workgroups = g;
  }
  c.deadline_ns = r.u64();
  c.capped = r.boolean();
  c.loop_budget = r.optional(&Reader::u64);
  c.unmetered = r.boolean();
  const uint64_t n = r.u64();
  for (uint64_t i = 0; i < n && !r.failed(); ++i) {
    std::string name(r.text());
    c.overrides.emplace_back(std::move(name), r.f64());
  }
  return c;
}

void put(Writer& w, const ExecutorPoolOptions& o) {
  const ExecutorOptions& e = o.executor;
  w.text(e.adapter);
  w.u64(e.max_output_bytes);
  w.u64(e.max_input_bytes);
  put_ms(w, e.default_timeout);
  put_ms(w, e.max_timeout);
  w.boolean(e.admission);
  w.u64(e.pipeline_cache_capacity);
  w.boolean(e.metering);
  w.u32(e.loop_budget);
  w.u64(e.max_batch_calls);
  w.u64(e.batch_call_bytes);
  w.boolean(e.spin_wait.has_value());
  if (e.spin_wait) w.u64(static_cast<uint64_t>(e.spin_wait->count()));
  w.boolean(e.direct_calls);
  w.u64(e.staged_transfer_bytes);
  w.u64(e.staging_chunk_bytes);
  w.u64(e.staging_slots);
  w.optional(e.staging_copy_threads.has_value() ? std::optional<uint64_t>(*e.staging_copy_threads) : std::nullopt,
             &Writer::u64);
  w.u64(o.adapters.size());
  for (const std::string& a : o.adapters) w.text(a);
  w.u64(o.devices_per_adapter);
  w.u64(o.affinity_slack);
  w.u64(o.affinity_capacity);
  put_ms(w, o.reconnect_first_delay);
  put_ms(w, o.reconnect_most_delay);
}

ExecutorPoolOptions get_pool_options(Reader& r) {
  ExecutorPoolOptions o;
  ExecutorOptions& e = o.executor;
  e.adapter = std::string(r.text());
  e.max_output_bytes = r.u64();
  e.max_input_bytes = r.u64();
  e.default_timeout = get_ms(r);
  e.max_timeout = get_ms(r);
  e.admission = r.boolean();
  e.pipeline_cache_capacity = r.u64();
  e.metering = r.boolean();
  e.loop_budget = r.u32();
  e.max_batch_calls = r.u64();
  e.batch_call_bytes = r.u64();
  if (r.boolean()) e.spin_wait = std::chrono::microseconds(static_cast<int64_t>(r.u64()));
  e.direct_calls = r.boolean();
  e.staged_transfer_bytes = r.u64();
  e.staging_chunk_bytes = r.u64();
  e.staging_slots = r.u64();
  if (auto t = r.optional(&Reader::u64)) e.staging_copy_threads = *t;
  const uint64_t adapters = r.u64();
  for (uint64_t i = 0; i < adapters && !r.failed(); ++i) o.adapters.emplace_back(r.text());
  o.devices_per_adapter = r.u64();
  o.affinity_slack = r.u64();
  o.affinity_capacity = r.u64();
  o.reconnect_first_delay = get_ms(r);
  o.reconnect_most_delay = get_ms(r);
  return o;
}

void put(Writer& w, const Error& e) {
  w.u32(static_cast<uint32_t>(e.code));
  w.text(e.message);
  put_ms(w, e.retry_after);
}

Error get_error(Reader& r) {
  Error e;
  const uint32_t code = r.u32();
  e.code = code <= static_cast<uint32_t>(ErrorCode::internal) ? static_cast<ErrorCode>(code) : ErrorCode::internal;
  e.message = std::string(r.text());
  e.retry_after = get_ms(r);
  return e;
}

void put(Writer& w, const ExecutorPool::Stats& s) {
  w.u64(s.devices.size());
  for (const auto& d : s.devices) {
    w.text(d.selector);
    put(w, d.executor);
    w.u64(d.queue_depth);
    w.boolean(d.healthy);
    w.boolean(d.in_rotation);
    w.u64(d.retried_elsewhere);
    w.u64(d.removals);
  }
  put(w, s.total);
  w.u64(s.retries);
}

ExecutorPool::Stats get_stats(Reader& r) {
  ExecutorPool::Stats s;
  const uint64_t n = r.u64();
  for (uint64_t i = 0; i < n && !r.failed(); ++i) {
    ExecutorPool::DeviceStats d;
    d.selector = std::string(r.text());
    d.executor = get_executor_stats(r);
    d.queue_depth = r.u64();
    d.healthy = r.boolean();
    d.in_rotation = r.boolean();
    d.retried_elsewhere = r.u64();
    d.removals = r.u64();
    s.devices.push_back(std::move(d));
  }
  s.total = get_executor_stats(r);
  s.retries = r.u64();
  return s;
}

}  // namespace kem::worker
