// SPDX-License-Identifier: MPL-2.0
// The CPU count crowding is judged against; see crowding.hpp.
#include "crowding.hpp"

#include <sched.h>
#include <thread>

namespace volley::detail {

namespace {
std::atomic<int> cpus_for_testing{0};
std::atomic<std::uint64_t> crowded_count{0};
} // namespace

void crowding::note_crowded() noexcept { crowded_count.fetch_add(1, std::memory_order_relaxed); }

std::uint64_t crowding::times_crowded() noexcept { return crowded_count.load(std::memory_order_relaxed); }

int crowding::available_cpus() noexcept {
    if (const int forced = cpus_for_testing.load(std::memory_order_relaxed); forced > 0) return forced;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) == 0) {
        const int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    const unsigned n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

void crowding::set_cpus_for_testing(int cpus) noexcept {
    cpus_for_testing.store(cpus < 0 ? 0 : cpus, std::memory_order_relaxed);
}

} // namespace volley::detail
