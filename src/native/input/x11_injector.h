// Replays pointer and keyboard input on an X display through XTEST, on a thread of its own.
//
// Why a thread: the JavaScript thread that decodes the control stream must never wait for the
// X server (a busy or remote server answers slowly); `push` only queues. The thread applies
// what is queued, then waits for the server to have processed it (XSync), so `applied` counts
// events the server has seen. The queue is bounded: past it, events are refused and counted.
//
// Why the injector remembers what it pressed: a client that leaves with a key or button held
// would leave it stuck on the desktop; closing releases every key and button still down, and
// gives back the spare keycodes that text input borrowed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pf::input {

enum class Op : uint8_t { Motion = 0, MoveTo = 1, Button = 2, Key = 3, Text = 4 };

struct Counters {
  uint64_t applied = 0;       // operations the X server processed
  uint64_t refused = 0;       // queue full, or the injector is closed / its display lost
  uint64_t unmapped = 0;      // a keysym no keycode carries (and no spare keycode for text)
  uint64_t x_errors = 0;      // protocol errors on this connection
  bool lost = false;          // the X connection went away
};

class Injector {
 public:
  // Opens the display and checks XTEST; nullptr with `error` set when that fails.
  static std::unique_ptr<Injector> open(const std::string& display, std::string* error);
  virtual ~Injector() = default;
  // Queues one operation (never blocks on X). False when refused.
  virtual bool push(Op op, int32_t a, int32_t b) = 0;
  virtual Counters counters() const = 0;
  // Releases what is held, restores borrowed keycodes, closes the connection, joins the thread.
  // Idempotent.
  virtual void close() = 0;
};

// Test hooks: a second connection that only asks the server questions.
struct PointerState {
  int x = 0;
  int y = 0;
  unsigned mask = 0;  // X modifier/button mask (Button1Mask = 1 << 8 …)
};
class Probe {
 public:
  static std::unique_ptr<Probe> open(const std::string& display, std::string* error);
  virtual ~Probe() = default;
  virtual PointerState pointer() = 0;
  // Is the key carrying this keysym held? (XQueryKeymap)
  virtual bool key_down(uint32_t keysym) = 0;
  // The keycode carrying `keysym` now (0 if none), after refreshing Xlib's cached mapping.
  virtual uint32_t keycode_of(uint32_t keysym) = 0;
  // A focused window of the probe's own (64x64 at the top-left corner) that records the key
  // events it receives, as an application would read them (XLookupString: modifiers and the
  // current mapping applied), and the button events while the pointer is over it.
  virtual bool watch_keys() = 0;
  struct InputRecord {
    bool key;       // key (code = keysym) or button (code = X button)
    uint32_t code;
    bool down;
  };
  virtual std::vector<InputRecord> key_events() = 0;
  virtual void close() = 0;
};

}  // namespace pf::input
