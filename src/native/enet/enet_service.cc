// The service thread of one ENet host; see enet_service.h for why it is shaped this way.
#include "enet_service.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <limits>
#include <mutex>

namespace pf::enet {
namespace {
// How long the thread sleeps when nothing arrives: ENet's own timers (retransmit, ping, timeout)
// are in milliseconds and tolerate this granularity; commands wake the thread at once.
constexpr int kPollMs = 10;
constexpr int kMaxEventsPerTurn = 1024;

std::once_flag init_once;
bool init_ok = false;

uint32_t id_of(const ENetPeer* peer) {
  return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(peer->data));
}

uint64_t now_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count());
}

// The states of an incoming handshake on the host side (CONNECT received, VERIFY_CONNECT sent,
// not yet acknowledged, or acknowledged and about to be reported).
bool handshaking(ENetPeerState state) {
  return state == ENET_PEER_STATE_ACKNOWLEDGING_CONNECT || state == ENET_PEER_STATE_CONNECTION_PENDING ||
         state == ENET_PEER_STATE_CONNECTION_SUCCEEDED;
}
}  // namespace

std::shared_ptr<Service> Service::open(const Config& config, std::function<bool()> wake, std::string* error) {
  std::call_once(init_once, [] { init_ok = enet_initialize() == 0; });
  if (!init_ok) {
    *error = "enet_initialize failed";
    return nullptr;
  }
  if (config.port < 0 || config.port > 65535 || config.peers < 1 || config.peers > 4094 || config.channels < 1 ||
      config.channels > 255 || config.duplicate_peers < 0 || config.duplicate_peers > 4095) {
    *error = "port, peers, channels or duplicate peers out of range";
    return nullptr;
  }
  ENetAddress address{};
  if (enet_address_set_host_ip(&address, config.bind.c_str()) != 0) {
    *error = "not an IPv4 address: " + config.bind;
    return nullptr;
  }
  address.port = static_cast<enet_uint16>(config.port);
  std::shared_ptr<Service> service(new Service());
  service->config_ = config;
  service->wake_ = std::move(wake);
  // One slot more than the cap, kept free (see enforce_limits).
  service->host_ =
      enet_host_create(&address, static_cast<size_t>(config.peers) + 1, static_cast<size_t>(config.channels), 0, 0);
  if (service->host_ == nullptr) {
    *error = "cannot bind UDP " + config.bind + ":" + std::to_string(config.port);
    return nullptr;
  }
  // Control messages are a few dozen bytes: refuse anything big before it is reassembled.
  service->host_->maximumPacketSize = config.max_packet;
  service->host_->maximumWaitingData = 4 * static_cast<size_t>(config.max_packet);
  if (config.duplicate_peers > 0) service->host_->duplicatePeers = static_cast<size_t>(config.duplicate_peers);
  ENetAddress bound{};
  if (enet_socket_get_address(service->host_->socket, &bound) != 0) {
    enet_host_destroy(service->host_);
    service->host_ = nullptr;
    *error = "cannot read the bound address";
    return nullptr;
  }
  service->port_ = bound.port;
  service->wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (service->wake_fd_ < 0) {
    enet_host_destroy(service->host_);
    service->host_ = nullptr;
    *error = std::string("eventfd: ") + std::strerror(errno);
    return nullptr;
  }
  service->thread_ = std::thread([s = service.get()] { s->run(); });
  return service;
}

Service::~Service() { close(); }

bool Service::send(uint32_t peer, uint8_t channel, std::vector<uint8_t> bytes, bool reliable) {
  {
    std::lock_guard<std::mutex> lock(commands_mutex_);
    if (stop_.load() || commands_.size() >= kMaxQueuedCommands) {
      std::lock_guard<std::mutex> events_lock(events_mutex_);
      counters_.sends_refused++;
      return false;
    }
    commands_.push_back(Command{Command::Type::Send, peer, channel, reliable, std::move(bytes)});
  }
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
  return true;
}

bool Service::disconnect(uint32_t peer, bool later) {
  {
    std::lock_guard<std::mutex> lock(commands_mutex_);
    if (stop_.load()) return false;
    // Not bounded by kMaxQueuedCommands: a disconnect must never be lost to a full queue.
    commands_.push_back(
        Command{later ? Command::Type::DisconnectLater : Command::Type::Disconnect, peer, 0, false, {}});
  }
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
  return true;
}

bool Service::authenticated(uint32_t peer) {
  {
    std::lock_guard<std::mutex> lock(commands_mutex_);
    if (stop_.load()) return false;
    // Not bounded either: at most one per peer, and losing it would get a real client dropped.
    commands_.push_back(Command{Command::Type::Authenticated, peer, 0, false, {}});
  }
  const uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof one);
  return true;
}

std::vector<Event> Service::drain() {
  std::lock_guard<std::mutex> lock(events_mutex_);
  std::vector<Event> out(std::make_move_iterator(events_.begin()), std::make_move_iterator(events_.end()));
  events_.clear();
  queued_packets_ = 0;
  queued_bytes_ = 0;
  wake_pending_ = false;
  return out;
}

Counters Service::counters() {
  std::lock_guard<std::mutex> lock(events_mutex_);
  return counters_;
}

void Service::close() {
  std::lock_guard<std::mutex> lock(close_mutex_);
  if (closed_) return;
  closed_ = true;
  {
    std::lock_guard<std::mutex> commands_lock(commands_mutex_);
    stop_.store(true);
  }
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof one);
  }
  if (thread_.joinable()) thread_.join();
  if (host_ != nullptr) {
    // A disconnect datagram to each peer still there, so a client learns at once (ENet flushes it).
    for (auto& [id, tracked] : peers_) {
      tracked.peer->data = nullptr;
      enet_peer_disconnect_now(tracked.peer, 0);
    }
    peers_.clear();
    handshakes_.clear();
    enet_host_destroy(host_);
    host_ = nullptr;
  }
  if (wake_fd_ >= 0) ::close(wake_fd_);
  wake_fd_ = -1;
}

void Service::run() {
  pollfd fds[2] = {{host_->socket, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
  while (!stop_.load()) {
    std::deque<Command> commands;
    {
      std::lock_guard<std::mutex> lock(commands_mutex_);
      commands.swap(commands_);
    }
    for (auto& command : commands) apply(command);
    ENetEvent event;
    int r = 0;
    // Bounded, so a flood of packets cannot starve the commands (and close) queued meanwhile.
    for (int n = 0; n < kMaxEventsPerTurn && (r = enet_host_service(host_, &event, 0)) > 0; n++) handle(event);
    if (r < 0) {
      std::lock_guard<std::mutex> lock(events_mutex_);
      counters_.service_errors++;
    }
    enforce_limits();
    fds[0].revents = fds[1].revents = 0;
    if (poll(fds, 2, r > 0 ? 0 : kPollMs) > 0 && (fds[1].revents & POLLIN)) {
      uint64_t value;
      (void)!read(wake_fd_, &value, sizeof value);
    }
  }
}

void Service::apply(Command& command) {
  const auto it = peers_.find(command.peer);
  if (it == peers_.end()) {
    if (command.type == Command::Type::Send) {
      std::lock_guard<std::mutex> lock(events_mutex_);
      counters_.sends_refused++;
    }
    return;
  }
  ENetPeer* peer = it->second.peer;
  switch (command.type) {
    case Command::Type::Authenticated:
      it->second.authenticated = true;
      break;
    case Command::Type::Send: {
      ENetPacket* packet = enet_packet_create(command.bytes.data(), command.bytes.size(),
                                              command.reliable ? ENET_PACKET_FLAG_RELIABLE : ENET_PACKET_FLAG_UNSEQUENCED);
      const bool ok = packet != nullptr && enet_peer_send(peer, command.channel, packet) == 0;
      if (!ok && packet != nullptr) enet_packet_destroy(packet);  // 1.3.17 leaves a refused packet to the caller
      std::lock_guard<std::mutex> lock(events_mutex_);
      if (ok) counters_.packets_sent++;
      else counters_.sends_refused++;
      break;
    }
    case Command::Type::DisconnectLater:
      enet_peer_disconnect_later(peer, 0);  // ENet reports the disconnect when it completes
      break;
    case Command::Type::Disconnect:
      (void)peer;
      drop_connected(command.peer, Event::Cause::Host);
      break;
  }
}

void Service::drop_connected(uint32_t id, Event::Cause cause) {
  const auto it = peers_.find(id);
  if (it == peers_.end()) return;
  ENetPeer* peer = it->second.peer;
  // ENet raises no event for a peer reset here; report one, so every connect gets its end.
  peer->data = nullptr;
  peers_.erase(it);
  enet_peer_disconnect_now(peer, 0);
  {
    std::lock_guard<std::mutex> lock(events_mutex_);
    counters_.disconnects++;
    if (cause == Event::Cause::Unauthenticated) counters_.unauthenticated_dropped++;
    if (cause == Event::Cause::Evicted) counters_.evicted++;
  }
  Event e;
  e.type = Event::Type::Disconnect;
  e.cause = cause;
  e.peer = id;
  push(std::move(e));
}

// Once per turn: a walk over the peer table (a few hundred slots at most: cheap beside the
// socket work of a turn). Handshakes are timed from when a turn first sees them; connected peers
// from their connect event.
void Service::enforce_limits() {
  const uint64_t now = now_ms();
  const uint64_t timeout = config_.auth_timeout_ms;
  size_t free_slots = 0, connected = 0, handshaking_now = 0;
  ENetPeer* oldest_handshake = nullptr;
  uint32_t oldest_id = 0;
  uint64_t oldest_since = std::numeric_limits<uint64_t>::max();
  std::vector<uint32_t> expired;
  for (ENetPeer* peer = host_->peers; peer < &host_->peers[host_->peerCount]; ++peer) {
    if (peer->state == ENET_PEER_STATE_DISCONNECTED) {
      handshakes_.erase(peer);
      free_slots++;
      continue;
    }
    if (handshaking(peer->state) && id_of(peer) == 0) {
      Handshake& h = handshakes_[peer];
      if (h.since_ms == 0 || h.connect_id != peer->connectID) h = Handshake{peer->connectID, now};
      if (timeout > 0 && now - h.since_ms >= timeout) {
        // Silently: its source address may be forged, and nothing was reported for it.
        handshakes_.erase(peer);
        enet_peer_reset(peer);
        free_slots++;
        std::lock_guard<std::mutex> lock(events_mutex_);
        counters_.handshakes_dropped++;
        continue;
      }
      handshaking_now++;
      if (h.since_ms < oldest_since) {
        oldest_since = h.since_ms;
        oldest_handshake = peer;
        oldest_id = 0;
      }
      continue;
    }
    handshakes_.erase(peer);
    const uint32_t id = id_of(peer);
    const auto it = id == 0 ? peers_.end() : peers_.find(id);
    if (it == peers_.end()) continue;
    connected++;
    if (it->second.authenticated) continue;
    if (timeout > 0 && now - it->second.since_ms >= timeout) {
      expired.push_back(id);
      continue;
    }
    if (it->second.since_ms < oldest_since) {
      oldest_since = it->second.since_ms;
      oldest_handshake = nullptr;
      oldest_id = id;
    }
  }
  for (const uint32_t id : expired) {
    drop_connected(id, Event::Cause::Unauthenticated);
    connected--;
    free_slots++;
  }
  if (free_slots == 0) {
    if (oldest_handshake != nullptr) {
      handshakes_.erase(oldest_handshake);
      enet_peer_reset(oldest_handshake);
      handshaking_now--;
      std::lock_guard<std::mutex> lock(events_mutex_);
      counters_.evicted++;
    } else if (oldest_id != 0) {
      drop_connected(oldest_id, Event::Cause::Evicted);
      connected--;
    }
  }
  std::lock_guard<std::mutex> lock(events_mutex_);
  counters_.peers_connected = connected;
  counters_.peers_handshaking = handshaking_now;
}

void Service::handle(const ENetEvent& event) {
  switch (event.type) {
    case ENET_EVENT_TYPE_CONNECT: {
      uint32_t id = next_peer_id_++;
      if (id == 0) id = next_peer_id_++;
      event.peer->data = reinterpret_cast<void*>(static_cast<uintptr_t>(id));
      peers_[id] = Tracked{event.peer, now_ms(), false};
      handshakes_.erase(event.peer);
      // Without traffic acknowledged for this long, the peer is gone (Moonlight uses 10 s too).
      enet_peer_timeout(event.peer, 0, config_.timeout_ms, config_.timeout_ms);
      Event e;
      e.type = Event::Type::Connect;
      e.peer = id;
      e.data = event.data;
      char text[INET_ADDRSTRLEN] = {0};
      in_addr a{};
      a.s_addr = event.peer->address.host;
      inet_ntop(AF_INET, &a, text, sizeof text);
      e.address = text;
      e.port = event.peer->address.port;
      {
        std::lock_guard<std::mutex> lock(events_mutex_);
        counters_.connects++;
      }
      push(std::move(e));
      break;
    }
    case ENET_EVENT_TYPE_RECEIVE: {
      const uint32_t id = id_of(event.peer);
      bool keep = id != 0;
      {
        std::lock_guard<std::mutex> lock(events_mutex_);
        counters_.packets_received++;
        if (keep && (queued_packets_ >= kMaxQueuedPackets || queued_bytes_ + event.packet->dataLength > kMaxQueuedBytes)) {
          counters_.packets_dropped++;
          keep = false;
        }
      }
      if (keep) {
        Event e;
        e.type = Event::Type::Receive;
        e.peer = id;
        e.channel = event.channelID;
        e.bytes.assign(event.packet->data, event.packet->data + event.packet->dataLength);
        push(std::move(e));
      }
      enet_packet_destroy(event.packet);
      break;
    }
    case ENET_EVENT_TYPE_DISCONNECT: {
      const uint32_t id = id_of(event.peer);
      event.peer->data = nullptr;
      if (id == 0) break;  // already reported (we reset it)
      peers_.erase(id);
      Event e;
      e.type = Event::Type::Disconnect;
      e.peer = id;
      e.data = event.data;
      {
        std::lock_guard<std::mutex> lock(events_mutex_);
        counters_.disconnects++;
      }
      push(std::move(e));
      break;
    }
    case ENET_EVENT_TYPE_NONE:
      break;
  }
}

void Service::push(Event event) {
  bool notify = false;
  {
    std::lock_guard<std::mutex> lock(events_mutex_);
    if (event.type == Event::Type::Receive) {
      queued_packets_++;
      queued_bytes_ += event.bytes.size();
    }
    events_.push_back(std::move(event));
    if (!wake_pending_) wake_pending_ = notify = true;
  }
  if (notify && !wake_()) {
    std::lock_guard<std::mutex> lock(events_mutex_);
    wake_pending_ = false;
  }
}

}  // namespace pf::enet
