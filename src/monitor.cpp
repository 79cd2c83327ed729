// SPDX-License-Identifier: MPL-2.0
// volley::monitor and its queue.
#include "monitor_queue.hpp"

#include "clock.hpp"

namespace volley {

std::string_view to_string(event_type t) noexcept {
    switch (t) {
    case event_type::listening: return "listening";
    case event_type::bind_failed: return "bind_failed";
    case event_type::accepted: return "accepted";
    case event_type::accept_failed: return "accept_failed";
    case event_type::connected: return "connected";
    case event_type::connect_retried: return "connect_retried";
    case event_type::disconnected: return "disconnected";
    case event_type::handshake_succeeded: return "handshake_succeeded";
    case event_type::handshake_failed: return "handshake_failed";
    case event_type::closed: return "closed";
    }
    return "?";
}

std::optional<monitor_event> monitor::next(std::chrono::milliseconds timeout) const {
    if (!queue_) return std::nullopt;
    return queue_->pop(timeout);
}

std::optional<monitor_event> monitor::wait_for(event_type type, std::chrono::milliseconds timeout) const {
    const auto deadline = detail::deadline_after(timeout);
    for (;;) {
        auto left = timeout;
        if (timeout != infinite) {
            left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - detail::clock::now());
            if (left.count() < 0) left = std::chrono::milliseconds(0);
        }
        auto e = next(left);
        if (!e) return std::nullopt;
        if (e->type == type) return e;
    }
}

std::size_t monitor::dropped() const noexcept {
    return queue_ ? queue_->dropped() : 0;
}

} // namespace volley

namespace volley::detail {

void monitor_queue::push(monitor_event e) noexcept {
    if (e.detail.size() > max_detail_bytes) { // a second line of defence: producers quote peers short
        e.detail.resize(max_detail_bytes - 3);
        e.detail += "...";
        e.detail.shrink_to_fit();
    }
    const std::size_t size = cost(e);
    {
        std::lock_guard lock(mutex_);
        if (events_.size() >= capacity || bytes_ + size > capacity_bytes) {
            ++dropped_;
            return;
        }
        try {
            events_.push_back(std::move(e));
        } catch (...) {
            ++dropped_;
            return;
        }
        bytes_ += size;
    }
    ready_.notify_all();
}

void monitor_queue::push(event_type type, const std::string& endpoint, std::error_code error, std::string detail,
                         std::chrono::milliseconds interval) noexcept {
    try {
        push(monitor_event{type, endpoint, error, std::move(detail), interval});
    } catch (...) {
        std::lock_guard lock(mutex_);
        ++dropped_;
    }
}

std::optional<monitor_event> monitor_queue::pop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    const auto has_event = [this] { return !events_.empty(); };
    if (timeout == infinite)
        ready_.wait(lock, has_event);
    else if (!ready_.wait_for(lock, timeout, has_event))
        return std::nullopt;
    monitor_event e = std::move(events_.front());
    events_.pop_front();
    bytes_ -= cost(e);
    return e;
}

std::size_t monitor_queue::dropped() const noexcept {
    std::lock_guard lock(mutex_);
    return dropped_;
}

std::size_t monitor_queue::bytes() const noexcept {
    std::lock_guard lock(mutex_);
    return bytes_;
}

} // namespace volley::detail
