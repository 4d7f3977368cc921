// The byte encoding of messages between the service and its GPU worker process: fixed-width
// little-endian integers, length-prefixed strings and byte runs. Both ends are the same build
// of KEM (the service starts the worker from its own build), so there is no versioning; the
// reader still checks every length, since a worker that crashed mid-write must not make the
// service read past a message.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kem::worker {

class Writer {
 public:
  void u8(uint8_t v) { bytes_.push_back(v); }
  void u32(uint32_t v) { raw(&v, sizeof v); }
  void u64(uint64_t v) { raw(&v, sizeof v); }
  void f64(double v) { raw(&v, sizeof v); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void bytes(std::span<const uint8_t> v) {
    u64(v.size());
    raw(v.data(), v.size());
  }
  void text(std::string_view v) { bytes({reinterpret_cast<const uint8_t*>(v.data()), v.size()}); }
  template <class T>
  void optional(const std::optional<T>& v, void (Writer::*put)(T)) {
    boolean(v.has_value());
    if (v) (this->*put)(*v);
  }

  std::vector<uint8_t>& data() { return bytes_; }

 private:
  void raw(const void* p, size_t n) {
    const size_t at = bytes_.size();
    bytes_.resize(at + n);
    if (n) std::memcpy(bytes_.data() + at, p, n);
  }
  std::vector<uint8_t> bytes_;
};

// Reads what a Writer wrote. Any read past the end sets failed() and returns zeros or empty
// views; the caller checks failed() once at the end.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  uint8_t u8() { return fixed<uint8_t>(); }
  uint32_t u32() { return fixed<uint32_t>(); }
  uint64_t u64() { return fixed<uint64_t>(); }
  double f64() { return fixed<double>(); }
  bool boolean() { return u8() != 0; }
  // A view into the message: valid while the message is.
  std::span<const uint8_t> bytes() {
    const uint64_t n = u64();
    if (failed_ || n > bytes_.size() - at_) return fail<std::span<const uint8_t>>();
    auto v = bytes_.subspan(at_, n);
    at_ += n;
    return v;
  }
  std::string_view text() {
    auto b = bytes();
    return {reinterpret_cast<const char*>(b.data()), b.size()};
  }
  template <class T>
  std::optional<T> optional(T (Reader::*get)()) {
    if (!boolean()) return std::nullopt;
    return (this->*get)();
  }
  bool failed() const { return failed_; }

 private:
  template <class T>
  T fixed() {
    T v{};
    if (failed_ || sizeof(T) > bytes_.size() - at_) return fail<T>();
    std::memcpy(&v, bytes_.data() + at_, sizeof(T));
    at_ += sizeof(T);
    return v;
  }
  template <class T>
  T fail() {
    failed_ = true;
    return T{};
  }
  std::span<const uint8_t> bytes_;
  size_t at_ = 0;
  bool failed_ = false;
};

}  // namespace kem::worker
