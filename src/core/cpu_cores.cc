#include "core/cpu_cores.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace zebros::core {
namespace {

std::optional<std::int64_t> ParsePositive(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value <= 0) return std::nullopt;
  return value;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The process's cgroup v2 directory ("0::/system.slice/x.service" in /proc/self/cgroup), empty
// on cgroup v1 or outside any.
std::string OwnCgroupDir() {
  std::istringstream lines(ReadFile("/proc/self/cgroup"));
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("0::", 0) != 0) continue;
    std::string dir = "/sys/fs/cgroup" + line.substr(3);
    while (dir.back() == '/') dir.pop_back();  // "0::/": the root itself
    return dir;
  }
  return {};
}

// The tightest quota of the process's cgroup and its ancestors: a limit set on a parent (a
// container's) binds every group below it.
std::optional<int> CgroupCores() {
  std::string dir = OwnCgroupDir();
  if (dir.empty()) return std::nullopt;
  std::optional<int> cores;
  while (dir.size() >= std::string_view("/sys/fs/cgroup").size()) {
    if (auto here = CoresFromCpuMax(ReadFile(dir + "/cpu.max"))) {
      cores = cores ? std::min(*cores, *here) : *here;
    }
    const auto slash = dir.rfind('/');
    if (slash == std::string::npos || slash == 0) break;
    dir.resize(slash);
  }
  return cores;
}

}  // namespace

std::optional<int> CoresFromCpuMax(std::string_view cpu_max) {
  while (!cpu_max.empty() && (cpu_max.back() == '\n' || cpu_max.back() == ' ')) {
    cpu_max.remove_suffix(1);
  }
  const auto space = cpu_max.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  const auto quota = ParsePositive(cpu_max.substr(0, space));
  const auto period = ParsePositive(cpu_max.substr(space + 1));
  if (!quota || !period) return std::nullopt;  // "max": no limit
  return static_cast<int>(std::min<std::int64_t>((*quota + *period - 1) / *period, 1 << 20));
}

int UsableCores() {
  int cores = static_cast<int>(std::thread::hardware_concurrency());
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0) cores = CPU_COUNT(&allowed);
  if (auto quota = CgroupCores()) cores = std::min(cores, *quota);
  return std::max(1, cores);
}

}  // namespace zebros::core
