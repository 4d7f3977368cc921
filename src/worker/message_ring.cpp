#include "worker/message_ring.h"

#include <cstring>

namespace kem::worker {

bool MessageRing::try_push(uint64_t seq, std::span<const uint8_t> message) {
  if (message.size() > kMaxMessage) return false;
  const uint64_t head = word(kHead).load(std::memory_order_relaxed);  // ours alone
  if (head - word(kTail).load(std::memory_order_acquire) >= kSlots) return false;
  uint8_t* s = slot(head);
  const uint64_t size = message.size();
  std::memcpy(s, &seq, 8);
  std::memcpy(s + 8, &size, 8);
  if (!message.empty()) std::memcpy(s + kSlotHead, message.data(), message.size());
  // Publishes the slot; seq_cst pairs with the receiver's going_to_sleep() (see take_sleeper).
  word(kHead).store(head + 1, std::memory_order_seq_cst);
  return true;
}

std::optional<MessageRing::Front> MessageRing::front(bool& malformed) const {
  const uint64_t head = word(kHead).load(std::memory_order_acquire);
  const uint64_t t = tail();
  if (head == t) return std::nullopt;
  if (head - t > kSlots) {
    malformed = true;
    return std::nullopt;
  }
  const uint8_t* s = slot(t);
  uint64_t seq, size;
  std::memcpy(&seq, s, 8);
  std::memcpy(&size, s + 8, 8);
  if (size > kMaxMessage) {
    malformed = true;
    return std::nullopt;
  }
  return Front{seq, {s + kSlotHead, size}};
}

void MessageRing::pop() { word(kTail).store(tail() + 1, std::memory_order_release); }

}  // namespace kem::worker
