// XShm capture: the X server copies the root window's pixels into a shared-memory segment we
// attached when the source opened, so a grab is one round trip and no socket copy of ~3.7 MB.
//
// Whether the screen changed comes from the DAMAGE extension: a damage object on the root
// window at level NonEmpty sends one event when its region goes from empty to non-empty (any
// drawing on the screen, by any client, into any window), and we empty the region again with
// XDamageSubtract just before each grab. A tick with no event since the last grab is a repeat:
// no grab, no copy — the loop then decides whether the encoder sees it at all (frame_loop.cc).
// Comparing buffers instead would cost a full grab and a pass over ~3.7 MB per tick.
//
// Why subtract *before* the grab: the X server handles one connection's requests in order, so
// anything drawn before the subtract is in the image that follows it, and anything drawn after
// the subtract raises a new event — a change can make us grab once more, never miss one.
// Reading the events is XPending: it flushes and reads what the server already sent, without a
// round trip. A server without DAMAGE still streams: every grab then counts as new, as before.
//
// Xlib's default handlers exit the process — on a protocol error, and when the connection to
// the server is lost. A host must survive its X server going away: the protocol error handler
// only counts, and this connection's I/O-error exit handler (libX11 ≥ 1.7) marks the source
// failed and returns, after which Xlib turns further calls on this display into no-ops. The
// loop then ends the session with the reason instead of the process ending.
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <X11/extensions/Xdamage.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <atomic>
#include <cstdio>

#include "capture.h"

namespace pf {

namespace {

std::atomic<int> g_x_errors{0};

int record_x_error(Display*, XErrorEvent*) {
  g_x_errors.fetch_add(1, std::memory_order_relaxed);
  return 0;
}

// Called first on a lost connection; returning lets the per-display exit handler decide.
int quiet_io_error(Display*) { return 0; }

class X11Capture final : public Capture {
 public:
  ~X11Capture() override {
    // After the connection is lost every request would re-enter the I/O error path (and
    // XCloseDisplay then never returns), so only local memory is freed; the dead Display
    // struct is left behind, a few KB once per vanished server.
    const bool lost = lost_.load();
    if (damage_ != 0 && !lost) XDamageDestroy(dpy_, damage_);
    if (attached_ && !lost) XShmDetach(dpy_, &shm_);
    if (image_ != nullptr) XDestroyImage(image_);  // frees the XImage, not the shm segment
    if (shm_.shmaddr != nullptr && shm_.shmaddr != reinterpret_cast<char*>(-1)) shmdt(shm_.shmaddr);
    if (dpy_ != nullptr && !lost) XCloseDisplay(dpy_);
  }

  bool open(const std::string& display, int width, int height, std::string* error) {
    XSetErrorHandler(record_x_error);
    XSetIOErrorHandler(quiet_io_error);
    dpy_ = XOpenDisplay(display.c_str());
    if (dpy_ == nullptr) return fail(error, "cannot open X display '" + display + "'");
    XSetIOErrorExitHandler(dpy_, &X11Capture::on_connection_lost, this);
    display_ = display;
    if (!XShmQueryExtension(dpy_)) return fail(error, "X display '" + display + "' has no MIT-SHM extension");
    const int screen = DefaultScreen(dpy_);
    root_ = RootWindow(dpy_, screen);
    const int sw = DisplayWidth(dpy_, screen), sh = DisplayHeight(dpy_, screen);
    if (sw < width || sh < height)
      return fail(error, "X display '" + display + "' is " + std::to_string(sw) + "x" + std::to_string(sh) +
                             ", smaller than the requested " + std::to_string(width) + "x" + std::to_string(height));
    Visual* visual = DefaultVisual(dpy_, screen);
    const int depth = DefaultDepth(dpy_, screen);
    image_ = XShmCreateImage(dpy_, visual, static_cast<unsigned>(depth), ZPixmap, nullptr, &shm_,
                             static_cast<unsigned>(width), static_cast<unsigned>(height));
    if (image_ == nullptr) return fail(error, "XShmCreateImage failed on '" + display + "'");
    if (image_->bits_per_pixel != 32 || image_->red_mask != 0xff0000 || image_->blue_mask != 0xff)
      return fail(error, "X display '" + display + "' is not 24/32-bit BGRX (depth " + std::to_string(depth) + ")");
    shm_.shmid = shmget(IPC_PRIVATE, static_cast<size_t>(image_->bytes_per_line) * static_cast<size_t>(height),
                        IPC_CREAT | 0600);
    if (shm_.shmid < 0) return fail(error, "shmget failed for the X capture buffer");
    shm_.shmaddr = image_->data = static_cast<char*>(shmat(shm_.shmid, nullptr, 0));
    if (shm_.shmaddr == reinterpret_cast<char*>(-1)) {
      shmctl(shm_.shmid, IPC_RMID, nullptr);
      return fail(error, "shmat failed for the X capture buffer");
    }
    shm_.readOnly = False;
    const int before = g_x_errors.load();
    attached_ = XShmAttach(dpy_, &shm_) != 0;
    XSync(dpy_, False);
    // Marked for removal now: the segment disappears with the last detach, even after a crash.
    shmctl(shm_.shmid, IPC_RMID, nullptr);
    if (!attached_ || g_x_errors.load() != before)
      return fail(error, "XShmAttach failed on '" + display + "' (is the X server on another host?)");
    watch_damage();
    return true;
  }

  bool grab(FrameView* frame) override {
    frame->data = reinterpret_cast<const uint8_t*>(image_->data);
    frame->stride = image_->bytes_per_line;
    if (damage_ != 0) {
      // The first grab always reads the screen: nothing was drawn into the buffer yet.
      if (!damaged() && grabbed_) return false;
      XDamageSubtract(dpy_, damage_, None, None);
    }
    XShmGetImage(dpy_, root_, image_, 0, 0, AllPlanes);
    grabbed_ = true;
    return !lost_.load(std::memory_order_relaxed);
  }

  const char* failure() const override { return lost_.load(std::memory_order_relaxed) ? lost_message_ : nullptr; }

 private:
  bool fail(std::string* error, const std::string& message) {
    *error = message;
    return false;
  }

  // Creates the damage object if the server has the extension; without it damage_ stays 0.
  void watch_damage() {
    int error_base = 0, major = 1, minor = 1;
    if (!XDamageQueryExtension(dpy_, &damage_event_, &error_base)) return;
    // The server answers DAMAGE requests only after the client said which version it speaks.
    if (!XDamageQueryVersion(dpy_, &major, &minor)) return;
    const int before = g_x_errors.load();
    const Damage d = XDamageCreate(dpy_, root_, XDamageReportNonEmpty);
    XSync(dpy_, False);
    if (g_x_errors.load() == before) damage_ = d;
  }

  // Drains the events the server already sent; true if one was a damage notification. We
  // select no other events, so anything else read here is dropped.
  bool damaged() {
    bool any = false;
    while (!lost_.load(std::memory_order_relaxed) && XPending(dpy_) > 0) {
      XEvent event;
      XNextEvent(dpy_, &event);
      if (event.type == damage_event_ + XDamageNotify) any = true;
    }
    return any;
  }

  static void on_connection_lost(Display*, void* self) {
    X11Capture* c = static_cast<X11Capture*>(self);
    std::snprintf(c->lost_message_, sizeof c->lost_message_, "the X display '%s' went away", c->display_.c_str());
    c->lost_.store(true, std::memory_order_relaxed);
  }

  Display* dpy_ = nullptr;
  std::string display_;
  std::atomic<bool> lost_{false};
  char lost_message_[160] = {};
  Window root_ = 0;
  XImage* image_ = nullptr;
  XShmSegmentInfo shm_{};
  bool attached_ = false;
  Damage damage_ = 0;
  int damage_event_ = 0;
  bool grabbed_ = false;
};

}  // namespace

std::unique_ptr<Capture> open_x11(const std::string& display, int width, int height, std::string* error) {
  auto capture = std::make_unique<X11Capture>();
  if (!capture->open(display, width, height, error)) return nullptr;
  return capture;
}

}  // namespace pf
