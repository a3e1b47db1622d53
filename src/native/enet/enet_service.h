// One ENet host (libenet) serviced on its own thread, with no JavaScript in it.
//
// Why a thread of its own: ENet keeps time itself (acknowledgements, retransmits, pings,
// timeouts) and must be serviced every few milliseconds whatever the JavaScript event loop is
// doing; and an ENetHost is not thread-safe, so exactly one thread touches it. JavaScript talks
// to that thread through two queues: commands in (send, disconnect; the thread is woken through
// an eventfd it polls beside the socket) and events out (connect, receive, disconnect; the
// owner is told through `wake` (false: could not be told, try at the next event), once per batch, and drains them on its own thread).
//
// The event queue is bounded where a hostile peer could grow it: received packets beyond
// kMaxQueuedPackets / kMaxQueuedBytes are dropped and counted. Connect and disconnect events are
// always queued: there is at most one of each per peer slot in use, so they are bounded by the
// peer limit. Peers are named by a 32-bit id given at connect time, never by ENetPeer pointers,
// which ENet reuses.
#pragma once

#include <enet/enet.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace pf::enet {

struct Config {
  std::string bind = "0.0.0.0";
  int port = 0;
  int peers = 32;
  int channels = 0x30;  // what Moonlight asks for (CTRL_CHANNEL_COUNT)
  uint32_t timeout_ms = 10000;
  uint32_t max_packet = 64 * 1024;
};

struct Event {
  enum class Type { Connect, Receive, Disconnect } type = Type::Receive;
  uint32_t peer = 0;
  uint32_t data = 0;  // connect / disconnect data
  uint8_t channel = 0;
  std::string address;
  uint16_t port = 0;
  std::vector<uint8_t> bytes;
};

struct Counters {
  uint64_t connects = 0;
  uint64_t disconnects = 0;
  uint64_t packets_received = 0;
  uint64_t packets_dropped = 0;  // event queue full
  uint64_t packets_sent = 0;
  uint64_t sends_refused = 0;  // unknown peer, command queue full, or ENet refused it
  uint64_t service_errors = 0;
};

class Service {
 public:
  static constexpr size_t kMaxQueuedPackets = 4096;
  static constexpr size_t kMaxQueuedBytes = 4 * 1024 * 1024;
  static constexpr size_t kMaxQueuedCommands = 4096;

  // Binds and starts the service thread; nullptr with *error set when it cannot.
  static std::shared_ptr<Service> open(const Config& config, std::function<bool()> wake, std::string* error);
  ~Service();

  uint16_t port() const { return port_; }
  // Queued to the service thread; false when the queue is full or the service is closed.
  bool send(uint32_t peer, uint8_t channel, std::vector<uint8_t> bytes, bool reliable);
  // later: after what is queued for the peer has been acknowledged; else at once.
  bool disconnect(uint32_t peer, bool later);
  std::vector<Event> drain();
  Counters counters();
  // Stops and joins the thread, tells connected peers (a disconnect datagram) and frees the
  // host. Idempotent; events already queued stay drainable.
  void close();

 private:
  struct Command {
    enum class Type { Send, Disconnect, DisconnectLater } type;
    uint32_t peer;
    uint8_t channel;
    bool reliable;
    std::vector<uint8_t> bytes;
  };
  Service() = default;
  void run();
  void apply(Command& command);
  void handle(const ENetEvent& event);
  void push(Event event);

  Config config_;
  ENetHost* host_ = nullptr;
  int wake_fd_ = -1;
  uint16_t port_ = 0;
  std::function<bool()> wake_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex close_mutex_;
  bool closed_ = false;

  std::mutex commands_mutex_;
  std::deque<Command> commands_;

  std::mutex events_mutex_;
  std::deque<Event> events_;
  size_t queued_packets_ = 0;
  size_t queued_bytes_ = 0;
  bool wake_pending_ = false;
  Counters counters_;

  // Service thread only.
  std::unordered_map<uint32_t, ENetPeer*> peers_;
  uint32_t next_peer_id_ = 1;
};

}  // namespace pf::enet
