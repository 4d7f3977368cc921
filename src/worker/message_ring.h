// One direction of the worker's fast path: a ring of fixed slots in memory shared by the
// service and its GPU worker, for the small messages of every call (a call and its reply are a
// few hundred bytes). Handing one over is a copy and an atomic store, and a receiver that is
// polling sees it without a system call; the socket (channel.h) stays for descriptors, large
// messages, waking a receiver that sleeps, and noticing that the other side died.
//
// One producer and one consumer at a time (the channel's send mutex and its one receiving
// thread). Every field the other side writes is read as untrusted: a worker whose memory a
// driver bug corrupted must not be able to make the service read out of bounds.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace kem::worker {

class MessageRing {
 public:
  static constexpr size_t kSlots = 256;
  static constexpr size_t kSlotBytes = 4096;
  static constexpr size_t kSlotHead = 16;  // the sequence number and the length
  static constexpr size_t kMaxMessage = kSlotBytes - kSlotHead;
  static constexpr size_t kHeaderBytes = 256;
  static constexpr size_t kBytes = kHeaderBytes + kSlots * kSlotBytes;  // what one direction needs

  // Over `memory` (kBytes, zeroed when new, 64-byte aligned); does not own it.
  explicit MessageRing(uint8_t* memory) : memory_(memory) {}

  // The producer's side. False when the ring is full or the message too large for a slot:
  // the caller sends it over the socket instead.
  bool try_push(uint64_t seq, std::span<const uint8_t> message);
  // Counts a message that went over the socket, so that a polling receiver knows to read it.
  void count_socket_message() { word(kSocketSent).fetch_add(1, std::memory_order_seq_cst); }
  // True when the receiver went to sleep (and was not already woken): send it a doorbell.
  bool take_sleeper() { return word(kSleeping).exchange(0, std::memory_order_seq_cst) != 0; }

  // The consumer's side.
  struct Front {
    uint64_t seq;
    std::span<const uint8_t> bytes;  // valid until pop()
  };
  // The oldest message, if any; nullopt when empty. `malformed` is set when the producer's
  // indices or lengths make no sense.
  std::optional<Front> front(bool& malformed) const;
  void pop();
  uint64_t socket_messages() const { return word(kSocketSent).load(std::memory_order_seq_cst); }
  bool has_message() const { return word(kHead).load(std::memory_order_seq_cst) != tail(); }
  // Before sleeping: announces it; the caller checks once more for messages before it sleeps.
  void going_to_sleep() { word(kSleeping).store(1, std::memory_order_seq_cst); }
  void woke() { word(kSleeping).store(0, std::memory_order_relaxed); }

 private:
  // The header's words, each on its own cache line.
  static constexpr size_t kHead = 0, kTail = 64, kSocketSent = 128, kSleeping = 192;
  std::atomic_ref<uint64_t> word(size_t offset) const {
    return std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(memory_ + offset));
  }
  uint64_t tail() const { return word(kTail).load(std::memory_order_relaxed); }
  uint8_t* slot(uint64_t index) const { return memory_ + kHeaderBytes + (index % kSlots) * kSlotBytes; }

  uint8_t* memory_;
  static_assert(std::atomic_ref<uint64_t>::is_always_lock_free, "the ring's words are shared between processes");
};

}  // namespace kem::worker
