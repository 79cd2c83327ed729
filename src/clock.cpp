// SPDX-License-Identifier: MPL-2.0
// Calibration of fast_clock against the steady clock.
#include "clock.hpp"


namespace volley::detail::fast_clock {
namespace {

double ticks_per_ns() noexcept {
    static const double rate = [] {
        const auto t0 = clock::now();
        const std::uint64_t c0 = now();
        while (clock::now() - t0 < std::chrono::microseconds(500)) {
        }
        const std::uint64_t c1 = now();
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - t0).count();
        return ns > 0 ? static_cast<double>(c1 - c0) / static_cast<double>(ns) : 1.0;
    }();
    return rate;
}

} // namespace

std::uint64_t ticks(std::chrono::nanoseconds d) noexcept {
    return static_cast<std::uint64_t>(static_cast<double>(d.count()) * ticks_per_ns());
}

} // namespace volley::detail::fast_clock
