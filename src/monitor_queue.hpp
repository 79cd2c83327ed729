// SPDX-License-Identifier: MPL-2.0
// The queue behind volley::monitor: any thread pushes, the application pops.
// Bounded in events and in bytes, so an application that never reads its
// monitor cannot make the library grow without limit, whatever peers put in
// the details: a detail is cut to max_detail_bytes, and past either bound
// events are counted and dropped.
#pragma once

#include <volley/monitor.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>

namespace volley::detail {

class monitor_queue {
public:
    static constexpr std::size_t capacity = 10'000;
    static constexpr std::size_t capacity_bytes = 4 << 20;
    static constexpr std::size_t max_detail_bytes = 1024;
    // What an event counts toward capacity_bytes.
    static std::size_t cost(const monitor_event& e) noexcept {
        return sizeof(monitor_event) + e.endpoint.capacity() + e.detail.capacity();
    }

    // Every socket has a queue from birth, shared by all its endpoints, so a monitor made
    // after bind or connect still hears those endpoints; events are kept only once
    // monitor() has enabled it.
    void enable() noexcept { enabled_.store(true, std::memory_order_release); }
    bool enabled() const noexcept { return enabled_.load(std::memory_order_acquire); }

    // Thread-safe; never blocks on the reader.
    void push(monitor_event e) noexcept;
    void push(event_type type, const std::string& endpoint, std::error_code error = {}, std::string detail = {},
              std::chrono::milliseconds interval = {}) noexcept;
    std::optional<monitor_event> pop(std::chrono::milliseconds timeout);
    std::size_t dropped() const noexcept;
    // Bytes the queued events hold (cost() summed).
    std::size_t bytes() const noexcept;

private:
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<monitor_event> events_;
    std::size_t bytes_ = 0;
    std::size_t dropped_ = 0;
    std::atomic<bool> enabled_{false};
};

// Pushes to `q` if it is there and somebody monitors the socket.
inline void emit(const std::shared_ptr<monitor_queue>& q, event_type type, const std::string& endpoint,
                 std::error_code error = {}, std::string detail = {}, std::chrono::milliseconds interval = {}) noexcept {
    if (q && q->enabled()) q->push(type, endpoint, error, std::move(detail), interval);
}

} // namespace volley::detail
