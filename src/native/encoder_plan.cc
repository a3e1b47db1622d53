// Encoder selection (see encoder_plan.h). `auto` prefers NVENC when the NVIDIA driver is loaded
// (encoding on the GPU frees the CPU for the game) and always ends with the software encoder,
// so a broken driver degrades to libx264/libx265 instead of no stream.
#include "encoder_plan.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace pf {

EncoderPlan plan_encoders(const std::string& codec, const std::string& choice, bool nvidia_gpu) {
  const std::string software = codec == "hevc" ? "libx265" : "libx264";
  const std::string hardware = codec == "hevc" ? "hevc_nvenc" : "h264_nvenc";
  EncoderPlan plan;
  if (choice != "auto") {
    plan.names.push_back(choice);
    return plan;
  }
  if (nvidia_gpu) plan.names.push_back(hardware);
  plan.names.push_back(software);
  plan.fallback_allowed = true;
  return plan;
}

bool nvidia_gpu_present() {
  return access("/proc/driver/nvidia/version", F_OK) == 0 || access("/dev/nvidia0", F_OK) == 0;
}

std::string gpu_name() {
  if (!nvidia_gpu_present()) return "none";
  DIR* dir = opendir("/proc/driver/nvidia/gpus");
  std::string name = "nvidia";
  if (dir == nullptr) return name;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    const std::string path = std::string("/proc/driver/nvidia/gpus/") + entry->d_name + "/information";
    FILE* f = std::fopen(path.c_str(), "r");
    if (f == nullptr) continue;
    char line[256];
    while (std::fgets(line, sizeof line, f) != nullptr) {
      if (std::strncmp(line, "Model:", 6) == 0) {
        std::string model(line + 6);
        const size_t start = model.find_first_not_of(" \t");
        const size_t end = model.find_last_not_of(" \t\r\n");
        if (start != std::string::npos) name = model.substr(start, end - start + 1);
        break;
      }
    }
    std::fclose(f);
    break;
  }
  closedir(dir);
  return name;
}

}  // namespace pf
