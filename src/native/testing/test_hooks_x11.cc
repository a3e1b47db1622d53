// X11 test and benchmark aids (see test_hooks.h), for the damage-driven capture:
// - x11MapWindow: a tiny X client that maps a plain coloured window and leaves it on the screen
//   after it disconnects (close-down mode RetainPermanent), the way an application opening a
//   window damages the screen — without an X toolkit or extra Debian tools;
// - x11Animate: draws the synthetic pattern over the whole screen at a given rate for a while
//   (XShmPutImage, so the pixels do not travel through the socket), making a "moving desktop".
//   It blocks its caller: the benchmark runs it in a child process, so its CPU time is not the
//   host's.
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <sys/ipc.h>
#include <sys/shm.h>

#include <string>

#include "capture.h"
#include "clock.h"
#include "testing/test_hooks.h"

namespace pf {

namespace {

Display* open_or_throw(Napi::Env env, const std::string& display) {
  Display* dpy = XOpenDisplay(display.c_str());
  if (dpy == nullptr) Napi::Error::New(env, "cannot open X display '" + display + "'").ThrowAsJavaScriptException();
  return dpy;
}

// x11MapWindow(display, x, y, w, h, rgb)
Napi::Value X11MapWindow(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string display = info[0].As<Napi::String>().Utf8Value();
  const int x = info[1].As<Napi::Number>().Int32Value(), y = info[2].As<Napi::Number>().Int32Value();
  const unsigned w = info[3].As<Napi::Number>().Uint32Value(), h = info[4].As<Napi::Number>().Uint32Value();
  const unsigned long rgb = info[5].As<Napi::Number>().Uint32Value();
  Display* dpy = open_or_throw(env, display);
  if (dpy == nullptr) return env.Undefined();
  const Window root = DefaultRootWindow(dpy);
  XSetWindowAttributes attrs{};
  attrs.background_pixel = rgb;
  attrs.override_redirect = True;  // no window manager decides where it goes
  const Window win = XCreateWindow(dpy, root, x, y, w, h, 0, CopyFromParent, InputOutput, CopyFromParent,
                                   CWBackPixel | CWOverrideRedirect, &attrs);
  XSetCloseDownMode(dpy, RetainPermanent);
  XMapRaised(dpy, win);
  XSync(dpy, False);
  XCloseDisplay(dpy);
  return env.Undefined();
}

// x11Animate(display, width, height, fps, ms) → frames drawn
Napi::Value X11Animate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string display = info[0].As<Napi::String>().Utf8Value();
  const int w = info[1].As<Napi::Number>().Int32Value(), h = info[2].As<Napi::Number>().Int32Value();
  const int fps = info[3].As<Napi::Number>().Int32Value();
  const double ms = info[4].As<Napi::Number>().DoubleValue();
  Display* dpy = open_or_throw(env, display);
  if (dpy == nullptr) return env.Undefined();
  const int screen = DefaultScreen(dpy);
  XShmSegmentInfo shm{};
  XImage* image = XShmCreateImage(dpy, DefaultVisual(dpy, screen), static_cast<unsigned>(DefaultDepth(dpy, screen)), ZPixmap,
                                  nullptr, &shm, static_cast<unsigned>(w), static_cast<unsigned>(h));
  if (image == nullptr || image->bits_per_pixel != 32) {
    XCloseDisplay(dpy);
    Napi::Error::New(env, "x11Animate needs a 24/32-bit XShm display").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  shm.shmid = shmget(IPC_PRIVATE, static_cast<size_t>(image->bytes_per_line) * static_cast<size_t>(h), IPC_CREAT | 0600);
  shm.shmaddr = image->data = static_cast<char*>(shmat(shm.shmid, nullptr, 0));
  shm.readOnly = False;
  XShmAttach(dpy, &shm);
  XSync(dpy, False);
  shmctl(shm.shmid, IPC_RMID, nullptr);
  GC gc = XCreateGC(dpy, DefaultRootWindow(dpy), 0, nullptr);
  const uint64_t interval = 1000000000ull / static_cast<uint64_t>(fps > 0 ? fps : 60);
  const uint64_t start = now_ns(), end = start + static_cast<uint64_t>(ms * 1e6);
  uint64_t next = start, frames = 0;
  while (now_ns() < end) {
    draw_pattern(reinterpret_cast<uint8_t*>(image->data), w, h, image->bytes_per_line, frames);
    XShmPutImage(dpy, DefaultRootWindow(dpy), gc, image, 0, 0, 0, 0, static_cast<unsigned>(w), static_cast<unsigned>(h), False);
    XSync(dpy, False);  // the server is done reading the segment before we draw into it again
    frames++;
    next += interval;
    sleep_until_ns(next);
  }
  XFreeGC(dpy, gc);
  XShmDetach(dpy, &shm);
  XSync(dpy, False);
  XDestroyImage(image);
  shmdt(shm.shmaddr);
  XCloseDisplay(dpy);
  return Napi::Number::New(env, static_cast<double>(frames));
}

}  // namespace

void register_x11_test_hooks(Napi::Env env, Napi::Object exports) {
  exports.Set("x11MapWindow", Napi::Function::New(env, X11MapWindow));
  exports.Set("x11Animate", Napi::Function::New(env, X11Animate));
}

}  // namespace pf
