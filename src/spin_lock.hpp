// SPDX-License-Identifier: MPL-2.0
// spin_lock: the lock a connection's two threads (the reactor and the socket's
// own) take around its I/O. It is held for a few hundred nanoseconds, a
// syscall at most, and the socket's thread only tries it once per message:
// try_lock is one load and one exchange, unlock one release store (no locked
// instruction). std::mutex costs a locked instruction both ways and a call
// into libc each; on the 64-byte tcp send path those took 6% of the sender's
// time. A waiter spins briefly, then yields between attempts (the holder may
// share its CPU). Lockable, so std::lock_guard works with it.
#pragma once

#include "spin.hpp"

#include <atomic>
#include <thread>

namespace volley::detail {

class spin_lock {
public:
    bool try_lock() noexcept {
        return !locked_.load(std::memory_order_relaxed) && !locked_.exchange(true, std::memory_order_acquire);
    }
    void lock() noexcept {
        for (int spins = 0; !try_lock();) {
            if (spins < relax_spins) {
                ++spins;
                cpu_relax();
            } else {
                std::this_thread::yield();
            }
        }
    }
    void unlock() noexcept { locked_.store(false, std::memory_order_release); }

private:
    static constexpr int relax_spins = 64;
    std::atomic<bool> locked_{false};
};

} // namespace volley::detail
