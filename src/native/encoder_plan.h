// Which encoders a session tries, in order, and why. Kept apart from the encoder itself so the
// NVENC branch can be tested on a machine without a GPU: the plan is a pure function of the
// request and of whether an NVIDIA GPU is present.
#pragma once
#include <string>
#include <vector>

namespace pf {

struct EncoderPlan {
  std::vector<std::string> names;  // tried in order; the first that opens is used
  bool fallback_allowed = false;   // auto: a software fallback after a failed hardware one
};

// codec "h264"|"hevc"; choice "auto" or an explicit encoder name (validated already).
EncoderPlan plan_encoders(const std::string& codec, const std::string& choice, bool nvidia_gpu);

// True when an NVIDIA driver is loaded (its /proc node or device node exists).
bool nvidia_gpu_present();

// What the meta's `gpu` says: the GPU model from the driver, "nvidia" when unnamed, or "none".
std::string gpu_name();

}  // namespace pf
