#include "sandbox/sandbox_protocol.h"

#include "process/fatal_signals.h"

#include <charconv>
#include <cstring>

#include <nlohmann/json.hpp>

namespace kem::sandbox {
namespace {

using nlohmann::json;

Result<uint64_t> number(const char* text, const char* what) {
  uint64_t value = 0;
  const char* end = text + std::strlen(text);
  auto [p, ec] = std::from_chars(text, end, value);
  if (ec != std::errc() || p != end)
    return make_error(ErrorCode::invalid_argument, std::string(what) + " is not a number: " + text);
  return value;
}

std::optional<ErrorCode> code_named(std::string_view name) {
  for (int c = 0; c <= static_cast<int>(ErrorCode::internal); ++c)
    if (to_string(static_cast<ErrorCode>(c)) == name) return static_cast<ErrorCode>(c);
  return std::nullopt;
}

json usage_json(const Usage& u) { return {{"vm_peak", u.vm_peak}, {"vm_hwm", u.vm_hwm}, {"cpu_ms", u.cpu_ms}}; }

Error error_of(const json& j) {
  Error e;
  e.code = code_named(j.value("code", std::string())).value_or(ErrorCode::internal);
  e.message = j.value("message", std::string());
  return e;
}

}  // namespace

std::vector<std::string> to_args(const ChildArguments& a) {
  return {std::to_string(a.parent_pid), std::to_string(a.address_space_bytes), std::to_string(a.cpu_seconds),
          a.adapter, a.metering ? "metered" : "unmetered"};
}

Result<ChildArguments> parse_args(int argc, char** argv) {
  if (argc != 6)
    return make_error(ErrorCode::invalid_argument,
                      "usage: kem-kernel-sandbox PARENT_PID ADDRESS_SPACE_BYTES CPU_SECONDS ADAPTER metered|unmetered "
                      "(started by KEM, with its channel on descriptor 3)");
  ChildArguments a;
  auto pid = number(argv[1], "PARENT_PID");
  auto as = number(argv[2], "ADDRESS_SPACE_BYTES");
  auto cpu = number(argv[3], "CPU_SECONDS");
  if (!pid) return pid.take_error();
  if (!as) return as.take_error();
  if (!cpu) return cpu.take_error();
  a.parent_pid = static_cast<long>(*pid);
  a.address_space_bytes = *as;
  a.cpu_seconds = *cpu;
  a.adapter = argv[4];
  const std::string_view metering = argv[5];
  if (metering != "metered" && metering != "unmetered")
    return make_error(ErrorCode::invalid_argument, "the metering argument is metered or unmetered");
  a.metering = metering == "metered";
  return a;
}

KernelRequest CompileJob::request() const {
  KernelRequest r;
  r.source = source;
  r.entry = entry;
  r.unmetered = unmetered;
  r.overrides = overrides;
  return r;
}

std::string encode_job(const KernelRequest& request) {
  json overrides = json::array();
  for (const auto& [name, value] : request.overrides) overrides.push_back({name, value});
  // The source travels as raw bytes after the header: comments may hold any bytes, which JSON
  // text cannot, and the compile must see exactly what the devices would.
  std::string text = json{{"entry", request.entry}, {"unmetered", request.unmetered}, {"overrides", overrides}}
                         .dump(-1, ' ', false, json::error_handler_t::replace);
  text += '\n';
  text.append(request.source);
  return text;
}

Result<CompileJob> decode_job(std::string_view text) {
  try {
    const size_t end = text.find('\n');
    if (end == std::string_view::npos) return make_error(ErrorCode::internal, "the sandbox got a request without a header");
    const json j = json::parse(text.substr(0, end));
    CompileJob job;
    job.source = std::string(text.substr(end + 1));
    job.entry = j.at("entry").get<std::string>();
    job.unmetered = j.at("unmetered").get<bool>();
    for (const json& o : j.at("overrides")) job.overrides.emplace_back(o.at(0).get<std::string>(), o.at(1).get<double>());
    return job;
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal, std::string("the sandbox got a malformed request: ") + e.what());
  }
}

std::string encode_verdict(const Status& status, const Usage& usage) {
  json j = {{"ok", status.ok()}, {"usage", usage_json(usage)}};
  if (!status) {
    j["code"] = to_string(status.error().code);
    j["message"] = status.error().message;
  }
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string encode_ready(uint64_t address_space_limit) {
  return json{{"ready", true}, {"address_space_limit", address_space_limit}}.dump() + "\n";
}

std::string encode_start_error(const Error& error) {
  return json{{"start_error", {{"code", to_string(error.code)}, {"message", error.message}}}}.dump(
             -1, ' ', false, json::error_handler_t::replace) +
         "\n";
}

Result<ChildMessage> decode_message(std::string_view line) {
  try {
    const json j = json::parse(line);
    ChildMessage m;
    if (j.contains("ready")) {
      m.kind = ChildMessage::Kind::ready;
      m.address_space_limit = j.value("address_space_limit", uint64_t{0});
      return m;
    }
    if (j.contains("signal")) {
      m.kind = ChildMessage::Kind::signal;
      m.signal = process::fatal_signal_of(j.at("signal").get<std::string>());
      return m;
    }
    if (j.contains("start_error")) {
      m.kind = ChildMessage::Kind::start_error;
      m.verdict.status = error_of(j.at("start_error"));
      return m;
    }
    m.kind = ChildMessage::Kind::verdict;
    if (!j.at("ok").get<bool>()) m.verdict.status = error_of(j);
    const json& u = j.at("usage");
    m.verdict.usage = {u.at("vm_peak").get<uint64_t>(), u.at("vm_hwm").get<uint64_t>(), u.at("cpu_ms").get<uint64_t>()};
    return m;
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal, std::string("the sandbox sent a malformed message: ") + e.what());
  }
}

}  // namespace kem::sandbox
