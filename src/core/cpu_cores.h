#pragma once

#include <optional>
#include <string_view>

namespace zebros::core {

// How many cores this process may use: the CPUs its affinity mask allows (taskset, cpusets),
// capped by its cgroup's CPU quota (cgroup v2 `cpu.max`, as a container's CPU limit sets it),
// at least 1. std::thread::hardware_concurrency() counts the machine's online CPUs, so nodes
// pinned or limited to a share of a machine would each start a thread for every core of it.
int UsableCores();

// The cores a cgroup v2 `cpu.max` line ("QUOTA PERIOD", microseconds) allows, rounded up: 150000
// of 100000 is 2. Nothing for "max" (no limit) or text that is not such a line.
std::optional<int> CoresFromCpuMax(std::string_view cpu_max);

}  // namespace zebros::core
