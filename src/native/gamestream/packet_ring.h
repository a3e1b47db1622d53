// A single-producer single-consumer ring of fixed-size datagram slots: the frame thread writes
// packets in place (headers, payload, parity — no copy afterwards) and publishes them with one
// release store; the pacer thread sends them and frees them with another.
//
// Why in-place: the parity of a block is computed over the slots themselves, so the packets of
// a block are claimed together (`claim(n)`) before anything is written. A ring without room for
// a whole block refuses it, and the caller counts those packets as dropped — the frame thread
// never waits for the pacer.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace pf::gs {

class PacketRing {
 public:
  PacketRing(size_t slots, size_t slot_bytes) : slots_(slots), slot_bytes_(slot_bytes), bytes_(slots * slot_bytes, 0) {}

  size_t slot_bytes() const { return slot_bytes_; }
  size_t slots() const { return slots_; }

  // Producer: reserves the next `n` slots (after those already claimed and not yet published).
  // Returns false, reserving nothing, when fewer than `n` are free.
  bool claim(size_t n) {
    const uint64_t tail = tail_.load(std::memory_order_acquire);
    if (claimed_ + n - tail > slots_) return false;
    first_claimed_ = claimed_;
    claimed_ += n;
    return true;
  }
  // Producer: the i-th slot of the last claim.
  uint8_t* claimed_slot(size_t i) { return slot(first_claimed_ + i); }
  // Producer: makes every claimed slot visible to the consumer.
  void publish() { head_.store(claimed_, std::memory_order_release); }

  // Consumer.
  uint64_t head() const { return head_.load(std::memory_order_acquire); }
  uint64_t tail() const { return tail_.load(std::memory_order_relaxed); }
  uint8_t* slot(uint64_t index) { return &bytes_[(index % slots_) * slot_bytes_]; }
  void release_to(uint64_t tail) { tail_.store(tail, std::memory_order_release); }

 private:
  size_t slots_;
  size_t slot_bytes_;
  std::vector<uint8_t> bytes_;
  std::atomic<uint64_t> head_{0};
  std::atomic<uint64_t> tail_{0};
  uint64_t claimed_ = 0;
  uint64_t first_claimed_ = 0;
};

}  // namespace pf::gs
