// The flight recorder's reader side (see frame_ring.h for the writer and the invariants).
#include "frame_ring.h"

namespace pf {

FrameRing::FrameRing(size_t capacity)
    : capacity_(capacity < 2 ? 2 : capacity), words_(new std::atomic<uint64_t>[(capacity < 2 ? 2 : capacity) * kWords]) {
  for (size_t i = 0; i < capacity_ * kWords; i++) words_[i].store(0, std::memory_order_relaxed);
}

size_t FrameRing::copy(uint64_t from_ns, uint64_t to_ns, FramePoints* out, size_t max) const {
  const uint64_t before = head_.load(std::memory_order_acquire);
  const uint64_t oldest = before > capacity_ ? before - capacity_ : 0;
  size_t n = 0;
  uint64_t first_index = 0;
  for (uint64_t i = oldest; i < before && n < max; i++) {
    const std::atomic<uint64_t>* w = &words_[(i % capacity_) * kWords];
    const uint64_t deadline = w[0].load(std::memory_order_relaxed);
    if (deadline < from_ns || deadline > to_ns) continue;
    if (n == 0) first_index = i;
    FramePoints& p = out[n];
    p.deadline_ns = deadline;
    const uint64_t w1 = w[1].load(std::memory_order_relaxed), w2 = w[2].load(std::memory_order_relaxed);
    const uint64_t w3 = w[3].load(std::memory_order_relaxed), w4 = w[4].load(std::memory_order_relaxed);
    p.woke = static_cast<uint32_t>(w1), p.captured = static_cast<uint32_t>(w1 >> 32);
    p.submitted = static_cast<uint32_t>(w2), p.encoded = static_cast<uint32_t>(w2 >> 32);
    p.packetized = static_cast<uint32_t>(w3), p.sent = static_cast<uint32_t>(w3 >> 32);
    p.bytes = static_cast<uint32_t>(w4);
    p.packets = static_cast<uint16_t>(w4 >> 32);
    p.dropped_before = static_cast<uint8_t>(w4 >> 48);
    p.key = ((w4 >> 56) & 1) != 0;
    p.repeat = ((w4 >> 57) & 1) != 0;
    n++;
  }
  if (n == 0) return 0;
  // Slots the writer reached while we copied may hold a newer frame's words: drop them. The
  // acquire fence orders our loads of the slots before this second read of the head.
  std::atomic_thread_fence(std::memory_order_acquire);
  const uint64_t after = head_.load(std::memory_order_relaxed);
  const uint64_t safe_from = after > capacity_ ? after - capacity_ : 0;
  if (first_index >= safe_from) return n;
  // Deadlines rise with the index, so the matched records have consecutive indices
  // first_index, first_index + 1, …: the first `safe_from - first_index` of them may be torn.
  const uint64_t torn = safe_from - first_index;
  const size_t drop = torn < n ? static_cast<size_t>(torn) : n;
  for (size_t k = drop; k < n; k++) out[k - drop] = out[k];
  return n - drop;
}

}  // namespace pf
