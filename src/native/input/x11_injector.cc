// XTEST injection (see x11_injector.h).
//
// Xlib's default handlers exit the process on a protocol error and on a lost connection. As in
// the X11 capture, the host must survive both: the protocol error handler counts (and hands
// the error on to a handler installed before ours, such as the capture's, so its checks still
// see their errors), the global I/O error handler returns, and this connection's exit handler
// marks the injector lost and returns, after which Xlib turns calls on it into no-ops.
#include "x11_injector.h"

#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XTest.h>

#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace pf::input {

namespace {

std::atomic<uint64_t> g_x_errors{0};
XErrorHandler g_previous_error_handler = nullptr;
std::once_flag g_handlers_once;

int on_x_error(Display* dpy, XErrorEvent* e) {
  g_x_errors.fetch_add(1, std::memory_order_relaxed);
  if (g_previous_error_handler != nullptr) return g_previous_error_handler(dpy, e);
  return 0;
}

int quiet_io_error(Display*) { return 0; }

void install_handlers() {
  std::call_once(g_handlers_once, [] {
    // Learn which handler is Xlib's default (the one that exits): setting NULL installs it and
    // returns what was there; doing it again returns the default itself.
    XErrorHandler previous = XSetErrorHandler(nullptr);
    XErrorHandler fallback = XSetErrorHandler(nullptr);
    g_previous_error_handler = previous == fallback ? nullptr : previous;
    XSetErrorHandler(on_x_error);
    XSetIOErrorHandler(quiet_io_error);
  });
}

constexpr size_t kQueueLimit = 4096;
// Keycodes without symbols borrowed in turn for text (see Op::Text).
constexpr size_t kMaxSpares = 32;

struct Item {
  Op op;
  int32_t a;
  int32_t b;
};

class X11Injector final : public Injector {
 public:
  ~X11Injector() override { close(); }

  bool start(const std::string& display, std::string* error) {
    install_handlers();
    dpy_ = XOpenDisplay(display.c_str());
    if (dpy_ == nullptr) {
      *error = "cannot open X display '" + display + "'";
      return false;
    }
    XSetIOErrorExitHandler(dpy_, &X11Injector::on_connection_lost, this);
    int event_base = 0, error_base = 0, major = 0, minor = 0;
    if (!XTestQueryExtension(dpy_, &event_base, &error_base, &major, &minor)) {
      *error = "X display '" + display + "' has no XTEST extension";
      XCloseDisplay(dpy_);
      dpy_ = nullptr;
      return false;
    }
    // The injected events are this client's own: they must go through even while another
    // client holds a server grab (XTEST's own default, said explicitly).
    XTestGrabControl(dpy_, True);
    screen_ = DefaultScreen(dpy_);
    find_spare_keycodes();
    XSync(dpy_, False);
    thread_ = std::thread([this] { run(); });
    return true;
  }

  bool push(Op op, int32_t a, int32_t b) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || lost_.load(std::memory_order_relaxed) || queue_.size() >= kQueueLimit) {
      refused_++;
      return false;
    }
    queue_.push_back({op, a, b});
    wake_.notify_one();
    return true;
  }

  Counters counters() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    Counters c;
    c.applied = applied_;
    c.refused = refused_;
    c.unmapped = unmapped_;
    c.x_errors = g_x_errors.load(std::memory_order_relaxed);
    c.lost = lost_.load(std::memory_order_relaxed);
    return c;
  }

  void close() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
      wake_.notify_one();
    }
    if (thread_.joinable()) thread_.join();
    // After a lost connection every request would re-enter the I/O error path: only local
    // memory is left behind (a few KB, once per vanished server).
    if (dpy_ != nullptr && !lost_.load()) XCloseDisplay(dpy_);
    dpy_ = nullptr;
  }

 private:
  static void on_connection_lost(Display*, void* self) {
    static_cast<X11Injector*>(self)->lost_.store(true, std::memory_order_relaxed);
  }

  void find_spare_keycodes() {
    int min = 0, max = 0, per = 0;
    XDisplayKeycodes(dpy_, &min, &max);
    KeySym* map = XGetKeyboardMapping(dpy_, static_cast<KeyCode>(min), max - min + 1, &per);
    if (map == nullptr) return;
    // From the top: the highest keycodes are the least likely to be real keys.
    for (int kc = max; kc >= min && spares_.size() < kMaxSpares; kc--) {
      bool empty = true;
      for (int i = 0; i < per; i++) empty = empty && map[(kc - min) * per + i] == NoSymbol;
      if (empty) spares_.push_back({static_cast<KeyCode>(kc), NoSymbol});
    }
    XFree(map);
  }

  void run() {
    std::vector<Item> batch;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty() && stopping_) break;
        batch.assign(queue_.begin(), queue_.end());
        queue_.clear();
      }
      uint64_t applied = 0, unmapped = 0;
      for (const Item& item : batch) {
        if (lost_.load(std::memory_order_relaxed)) break;
        if (apply(item)) applied++;
        else unmapped++;
      }
      if (!lost_.load(std::memory_order_relaxed)) XSync(dpy_, False);
      std::lock_guard<std::mutex> lock(mutex_);
      applied_ += applied;
      unmapped_ += unmapped;
      if (lost_.load(std::memory_order_relaxed)) refused_ += batch.size() - applied - unmapped;
    }
    if (!lost_.load()) release_all();
  }

  bool apply(const Item& item) {
    switch (item.op) {
      case Op::Motion:
        XTestFakeRelativeMotionEvent(dpy_, item.a, item.b, CurrentTime);
        return true;
      case Op::MoveTo:
        XTestFakeMotionEvent(dpy_, screen_, item.a, item.b, CurrentTime);
        return true;
      case Op::Button: {
        if (item.a < 1 || item.a > 9) return false;
        const unsigned button = static_cast<unsigned>(item.a);
        XTestFakeButtonEvent(dpy_, button, item.b != 0 ? True : False, CurrentTime);
        if (item.b != 0) buttons_.insert(button);
        else buttons_.erase(button);
        return true;
      }
      case Op::Key: {
        const KeyCode kc = XKeysymToKeycode(dpy_, static_cast<KeySym>(static_cast<uint32_t>(item.a)));
        if (kc == 0) return false;
        XTestFakeKeyEvent(dpy_, kc, item.b != 0 ? True : False, CurrentTime);
        if (item.b != 0) keys_.insert(kc);
        else keys_.erase(kc);
        return true;
      }
      case Op::Text: {
        if (spares_.empty()) return false;
        const KeySym keysym = static_cast<KeySym>(static_cast<uint32_t>(item.a));
        // A character typed before still sits on its borrowed keycode: press that again.
        // Otherwise borrow the least recently borrowed spare and map the keysym on both levels
        // (so a held Shift changes nothing). Why many spares in turn and not one: an
        // application reads a key event with the mapping current when it reads it, so a
        // keycode remapped again before a slow reader got to it would type the newer symbol.
        Spare* spare = nullptr;
        for (Spare& s : spares_) {
          if (s.keysym == keysym) spare = &s;
        }
        if (spare == nullptr) {
          spare = &spares_[next_spare_++ % spares_.size()];
          KeySym syms[2] = {keysym, keysym};
          XChangeKeyboardMapping(dpy_, spare->keycode, 2, syms, 1);
          XSync(dpy_, False);
          spare->keysym = keysym;
        }
        XTestFakeKeyEvent(dpy_, spare->keycode, True, CurrentTime);
        XTestFakeKeyEvent(dpy_, spare->keycode, False, CurrentTime);
        return true;
      }
    }
    return false;
  }

  void release_all() {
    for (KeyCode kc : keys_) XTestFakeKeyEvent(dpy_, kc, False, CurrentTime);
    for (unsigned b : buttons_) XTestFakeButtonEvent(dpy_, b, False, CurrentTime);
    keys_.clear();
    buttons_.clear();
    XSync(dpy_, False);
    for (Spare& spare : spares_) {
      if (spare.keysym == NoSymbol) continue;
      KeySym none[2] = {NoSymbol, NoSymbol};
      XChangeKeyboardMapping(dpy_, spare.keycode, 2, none, 1);
      spare.keysym = NoSymbol;
    }
    XSync(dpy_, False);
  }

  Display* dpy_ = nullptr;
  int screen_ = 0;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::atomic<bool> lost_{false};
  uint64_t applied_ = 0, refused_ = 0, unmapped_ = 0;
  // Worker thread only:
  std::set<KeyCode> keys_;
  std::set<unsigned> buttons_;
  struct Spare {
    KeyCode keycode;
    KeySym keysym;  // what it is borrowed for now (NoSymbol: not borrowed)
  };
  std::vector<Spare> spares_;
  size_t next_spare_ = 0;
};

class X11Probe final : public Probe {
 public:
  ~X11Probe() override { close(); }

  bool start(const std::string& display, std::string* error) {
    install_handlers();
    dpy_ = XOpenDisplay(display.c_str());
    if (dpy_ == nullptr) {
      *error = "cannot open X display '" + display + "'";
      return false;
    }
    XSetIOErrorExitHandler(dpy_, &X11Probe::on_connection_lost, this);
    return true;
  }

  PointerState pointer() override {
    PointerState s;
    if (dpy_ == nullptr || lost_) return s;
    Window root = 0, child = 0;
    int wx = 0, wy = 0;
    XQueryPointer(dpy_, DefaultRootWindow(dpy_), &root, &child, &s.x, &s.y, &wx, &wy, &s.mask);
    return s;
  }

  bool key_down(uint32_t keysym) override {
    if (dpy_ == nullptr || lost_) return false;
    const KeyCode kc = XKeysymToKeycode(dpy_, static_cast<KeySym>(keysym));
    if (kc == 0) return false;
    char keys[32];
    std::memset(keys, 0, sizeof keys);
    XQueryKeymap(dpy_, keys);
    return (keys[kc / 8] & (1 << (kc % 8))) != 0;
  }

  uint32_t keycode_of(uint32_t keysym) override {
    if (dpy_ == nullptr || lost_) return 0;
    // Xlib caches the keyboard mapping; refresh it so borrowed keycodes are seen.
    XMappingEvent e;
    std::memset(&e, 0, sizeof e);
    e.type = MappingNotify;
    e.display = dpy_;
    e.request = MappingKeyboard;
    int min = 0, max = 0;
    XDisplayKeycodes(dpy_, &min, &max);
    e.first_keycode = min;
    e.count = max - min + 1;
    XRefreshKeyboardMapping(&e);
    return XKeysymToKeycode(dpy_, static_cast<KeySym>(keysym));
  }

  bool watch_keys() override {
    if (dpy_ == nullptr || lost_) return false;
    if (window_ == 0) {
      const int screen = DefaultScreen(dpy_);
      window_ = XCreateSimpleWindow(dpy_, RootWindow(dpy_, screen), 0, 0, 64, 64, 0, BlackPixel(dpy_, screen),
                                    WhitePixel(dpy_, screen));
      XSelectInput(dpy_, window_, KeyPressMask | KeyReleaseMask | ButtonPressMask | ButtonReleaseMask);
      XMapRaised(dpy_, window_);
      XSync(dpy_, False);
    }
    XSetInputFocus(dpy_, window_, RevertToParent, CurrentTime);
    XSync(dpy_, False);
    return true;
  }

  std::vector<InputRecord> key_events() override {
    std::vector<InputRecord> out;
    if (dpy_ == nullptr || lost_) return out;
    XSync(dpy_, False);
    while (XPending(dpy_) > 0) {
      XEvent e;
      XNextEvent(dpy_, &e);
      if (e.type == MappingNotify) {
        // Keycodes borrowed for text change the mapping: read the keys that follow with it.
        XRefreshKeyboardMapping(&e.xmapping);
      } else if (e.type == KeyPress || e.type == KeyRelease) {
        char text[16];
        KeySym keysym = NoSymbol;
        XLookupString(&e.xkey, text, sizeof text, &keysym, nullptr);
        out.push_back({true, static_cast<uint32_t>(keysym), e.type == KeyPress});
      } else if (e.type == ButtonPress || e.type == ButtonRelease) {
        out.push_back({false, e.xbutton.button, e.type == ButtonPress});
      }
    }
    return out;
  }

  void close() override {
    if (dpy_ != nullptr && !lost_) {
      if (window_ != 0) XDestroyWindow(dpy_, window_);
      XCloseDisplay(dpy_);
    }
    dpy_ = nullptr;
    window_ = 0;
  }

 private:
  static void on_connection_lost(Display*, void* self) { static_cast<X11Probe*>(self)->lost_ = true; }

  Display* dpy_ = nullptr;
  Window window_ = 0;
  bool lost_ = false;
};

}  // namespace

std::unique_ptr<Injector> Injector::open(const std::string& display, std::string* error) {
  auto injector = std::make_unique<X11Injector>();
  if (!injector->start(display, error)) return nullptr;
  return injector;
}

std::unique_ptr<Probe> Probe::open(const std::string& display, std::string* error) {
  auto probe = std::make_unique<X11Probe>();
  if (!probe->start(display, error)) return nullptr;
  return probe;
}

}  // namespace pf::input
