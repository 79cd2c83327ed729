// SPDX-License-Identifier: MPL-2.0
// The adaptive spin that precedes sleeping in a blocking call. A thread
// wake-up costs tens of microseconds on a VM, far more than a message takes
// to cross a pipe, so a blocked call first polls for a bounded time. The
// bound adapts to how long waits turn out to be: it doubles after a spin
// that found work; after a wait that ended in sleep it returns to the ceiling
// when the wait was short (a longer spin would have saved the sleep) and halves
// when it was long (the socket is idle), within [min, ceiling]. So an idle
// socket soon stops burning CPU and a busy one keeps its low latency.
// After a first phase of `pause` polls the spin yields between polls, so a
// peer thread that shares our CPU (a loaded machine) is not starved by it;
// that first phase adapts too, shrinking when only yielding finds work.
// The ceiling is the socket's busy_poll option: by default 50 us, or 1 ms on a socket with
// an endpoint on a polled transport (rdma), whose peer answers faster than a thread wakes.
#pragma once

#include <algorithm>
#include <chrono>

namespace volley::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
}

class spin_budget {
public:
    static constexpr std::chrono::nanoseconds min{2'000};
    // The default ceiling, and the one of a socket with a polled transport's endpoint.
    static constexpr std::chrono::nanoseconds max{50'000};
    static constexpr std::chrono::nanoseconds polled_max{1'000'000};
    // Bounds of the first phase, which polls with `pause` before polls start yielding.
    static constexpr std::chrono::nanoseconds relax_min{250};
    static constexpr std::chrono::nanoseconds relax_max{5'000};

    // How long to spin in all.
    std::chrono::nanoseconds current() const noexcept { return budget_; }
    std::chrono::nanoseconds ceiling() const noexcept { return max_; }
    // Sets the ceiling (0: never spin); the spin starts again from it.
    void set_ceiling(std::chrono::nanoseconds c) noexcept {
        max_ = c;
        budget_ = c;
    }
    // How long to poll with `pause` before yielding between polls.
    std::chrono::nanoseconds relax() const noexcept { return relax_; }

    // The spin found work while polling with `pause`: the peer runs on another CPU.
    void hit_relaxing() noexcept {
        budget_ = std::min(max_, budget_ * 2);
        relax_ = std::min(relax_max, relax_ * 2);
    }
    // The spin found work only after it started yielding: the peer probably shares our
    // CPU and runs when we yield, so yield sooner next time.
    void hit_yielding() noexcept {
        budget_ = std::min(max_, budget_ * 2);
        relax_ = std::max(relax_min, relax_ / 2);
    }
    // The wait slept and took `waited` in all.
    void slept(std::chrono::nanoseconds waited) noexcept {
        budget_ = waited < 2 * max_ ? max_ : std::max(std::min(min, max_), budget_ / 2);
    }

private:
    std::chrono::nanoseconds max_ = max;
    std::chrono::nanoseconds budget_ = max;
    std::chrono::nanoseconds relax_ = relax_max;
};

} // namespace volley::detail
