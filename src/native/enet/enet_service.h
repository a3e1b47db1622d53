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
//
// Limits before authentication (what ENet does not do itself). ENet gives a slot to anyone who
// sends one CONNECT datagram (its source address may be forged) and keeps it through the
// handshake for seconds; a connected peer keeps its slot until it times out. So:
//  - `duplicate_peers` is ENet's own per-address cap (`ENetHost::duplicatePeers`);
//  - `peers` is the total, and the table has one slot more that is kept free: when a turn ends
//    with no free slot, the oldest peer that has not authenticated goes (a half-open handshake,
//    silently; a connected peer with a Disconnect event, cause Evicted), so a flood of strangers
//    cannot keep a real client from reaching the host — it only displaces other strangers;
//  - `auth_timeout_ms`: a handshake not completed, or a connected peer the owner has not marked
//    `authenticated`, that old is dropped the same way (cause Unauthenticated).
// Authentication is the owner's business (it holds the keys); it tells this thread through
// `authenticated(peer)`. An authenticated peer is never dropped here.
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
  // Peers from one IPv4 address (0: ENet's default, no cap).
  int duplicate_peers = 0;
  // Unauthenticated peers and handshakes older than this are dropped (0: never).
  uint32_t auth_timeout_ms = 0;
};

struct Event {
  enum class Type { Connect, Receive, Disconnect } type = Type::Receive;
  // Why a Disconnect: the peer left or timed out, the owner asked, or a limit dropped it.
  enum class Cause { Peer, Host, Unauthenticated, Evicted } cause = Cause::Peer;
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
  uint64_t unauthenticated_dropped = 0;  // connected, not authenticated within auth_timeout_ms
  uint64_t handshakes_dropped = 0;       // handshake not completed within auth_timeout_ms
  uint64_t evicted = 0;                  // table full: the oldest unauthenticated peer or handshake
  // Gauges at the end of the last turn.
  uint64_t peers_connected = 0;
  uint64_t peers_handshaking = 0;
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
  // The peer proved itself to the owner: no longer subject to auth_timeout_ms or eviction.
  bool authenticated(uint32_t peer);
  std::vector<Event> drain();
  Counters counters();
  // Stops and joins the thread, tells connected peers (a disconnect datagram) and frees the
  // host. Idempotent; events already queued stay drainable.
  void close();

 private:
  struct Command {
    enum class Type { Send, Disconnect, DisconnectLater, Authenticated } type;
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
  void enforce_limits();
  void drop_connected(uint32_t id, Event::Cause cause);

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
  struct Tracked {
    ENetPeer* peer = nullptr;
    uint64_t since_ms = 0;  // connect event
    bool authenticated = false;
  };
  struct Handshake {
    uint32_t connect_id = 0;
    uint64_t since_ms = 0;  // first seen in a handshaking state
  };
  std::unordered_map<uint32_t, Tracked> peers_;
  std::unordered_map<ENetPeer*, Handshake> handshakes_;
  uint32_t next_peer_id_ = 1;
};

}  // namespace pf::enet
