// SPDX-License-Identifier: MPL-2.0
// Deadlines for blocking calls: a timeout in milliseconds (-1 = none)
// becomes a point on the steady clock, or time_point::max().
#pragma once

#include <chrono>
#include <cstdint>

namespace volley::detail {

using clock = std::chrono::steady_clock;

inline clock::time_point deadline_after(std::chrono::milliseconds timeout) noexcept {
    if (timeout.count() < 0) return clock::time_point::max();
    // Saturate: a timeout of years (rcvtimeo = 1e13 ms) must mean "a very long time", not
    // overflow into the past and time out at once.
    const auto now = clock::now();
    if (timeout >= std::chrono::duration_cast<std::chrono::milliseconds>(clock::time_point::max() - now))
        return clock::time_point::max();
    return now + timeout;
}

// A cheap clock for hot paths that only compare short intervals: the TSC where there is
// one (a few ns, against tens for clock_gettime on a VM), else the steady clock.
namespace fast_clock {
#if defined(__x86_64__) || defined(__i386__)
inline std::uint64_t now() noexcept { return __builtin_ia32_rdtsc(); }
#else
inline std::uint64_t now() noexcept {
    return static_cast<std::uint64_t>(clock::now().time_since_epoch().count());
}
#endif
// Ticks in `d` (calibrated once against the steady clock).
std::uint64_t ticks(std::chrono::nanoseconds d) noexcept;
} // namespace fast_clock

} // namespace volley::detail
