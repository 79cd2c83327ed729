// SPDX-License-Identifier: MPL-2.0
// crowding: whether a context's sockets have more threads wanting a CPU than
// the process has CPUs, which decides who drives the connections.
//
// The channel fast path (link.hpp) lets a socket's own thread read and write
// its connections: the fastest way while every thread has a CPU of its own
// (no hand-off to the I/O thread, no wake-up). When more sockets sit in
// blocking calls than there are CPUs (client threads in a server's process
// on a small machine), each of those threads polls its connections and sends
// lone messages itself, and they compete for the CPUs with the I/O thread,
// which then does the same work in smaller batches. libzmq's shape wins
// there: only the I/O thread touches the connections, in large batches, and
// the sockets' threads sleep until it hands them messages. So while the
// context is crowded, links leave their channels alone (link::read,
// link::write) and the I/O thread does all the I/O.
//
// The count is of sockets inside a blocking wait (spinning or asleep), kept
// by socket_base::wait for sockets that have a channel (tcp, ipc). Crowded
// means: that count, plus the I/O thread, is more than the CPUs. A single
// sample of it flips with every wait, so the decision follows a moving
// average of samples taken at each wait's start, with hysteresis: crowded
// from 3/4 of the samples on, not below 1/4.
#pragma once

#include <atomic>
#include <cstdint>

namespace volley::detail {

class crowding {
public:
    // `cpus`: the CPUs this process may run on (available_cpus()).
    explicit crowding(int cpus) noexcept : limit_(cpus < 1 ? 1 : cpus) {}
    crowding(const crowding&) = delete;
    crowding& operator=(const crowding&) = delete;

    // A socket starts a blocking wait.
    void enter() noexcept {
        const int waiting = waiting_.fetch_add(1, std::memory_order_relaxed) + 1;
        // Racy read-modify-write of the average on purpose: it is a hint, and a lost
        // sample changes nothing that matters.
        int s = score_.load(std::memory_order_relaxed);
        s += ((waiting >= limit_ ? full : 0) - s) / 8;
        score_.store(s, std::memory_order_relaxed);
        const bool now = crowded_.load(std::memory_order_relaxed);
        if (!now && s > full * 3 / 4) {
            crowded_.store(true, std::memory_order_relaxed);
            note_crowded();
        } else if (now && s < full / 4)
            crowded_.store(false, std::memory_order_relaxed);
    }
    // That wait ended.
    void leave() noexcept { waiting_.fetch_sub(1, std::memory_order_relaxed); }

    // Links ask this before using their channel.
    bool crowded() const noexcept { return crowded_.load(std::memory_order_relaxed); }
    int waiting() const noexcept { return waiting_.load(std::memory_order_relaxed); }
    int limit() const noexcept { return limit_; }

    // The CPUs this process may run on (its affinity mask; hardware_concurrency where that
    // cannot be read), or the value set by set_cpus_for_testing() when that is not zero.
    static int available_cpus() noexcept;
    // Tests: contexts created from now on count `cpus` CPUs (0: back to the real count).
    static void set_cpus_for_testing(int cpus) noexcept;
    // How many times, in this process, some context became crowded (tests, diagnostics).
    static std::uint64_t times_crowded() noexcept;

private:
    static void note_crowded() noexcept;
    static constexpr int full = 1024;
    const int limit_;
    alignas(64) std::atomic<int> waiting_{0};
    std::atomic<int> score_{0};
    std::atomic<bool> crowded_{false};
};

// Counts a socket's blocking wait for its lifetime.
class crowd_guard {
public:
    explicit crowd_guard(crowding& c) noexcept : c_(c) { c_.enter(); }
    ~crowd_guard() { c_.leave(); }
    crowd_guard(const crowd_guard&) = delete;
    crowd_guard& operator=(const crowd_guard&) = delete;

private:
    crowding& c_;
};

} // namespace volley::detail
