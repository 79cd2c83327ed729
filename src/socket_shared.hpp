// SPDX-License-Identifier: MPL-2.0
// socket_shared: what a socket's connections read of it while they live, one object shared
// by every endpoint the socket makes (endpoint_info copies the rest when the endpoint is made):
//   - linger, a live option: the context's end reads the value the socket has then;
//   - the peer slots of an exclusive socket (PAIR takes one peer): a session takes one for
//     its pipe, so a further peer is refused in its handshake instead of being accepted and
//     dropped by the socket (session::admit);
//   - a ROUTER's routing ids in use and its router_handover option: a peer announcing an id
//     another peer has is refused in its handshake, with a reason, unless handover is on
//     (session::admit). The router keeps the ids (router.cpp) as its thread attaches
//     peers (when it next sends, receives or polls): a peer not attached yet is not seen
//     here, and the router's attach refuses a second one with its id, without a reason.
// Any thread.
#pragma once

#include <volley/socket.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

namespace volley::detail {

class socket_shared {
public:
    socket_shared(socket_type type, std::chrono::milliseconds linger) noexcept
        : linger_ms_(linger.count()), peer_limit_(type == socket_type::pair ? 1 : 0) {}

    std::chrono::milliseconds linger() const noexcept {
        return std::chrono::milliseconds(linger_ms_.load(std::memory_order_relaxed));
    }
    void set_linger(std::chrono::milliseconds v) noexcept { linger_ms_.store(v.count(), std::memory_order_relaxed); }

    // Takes a slot for one peer's pipe; false when the socket has all it takes (a PAIR: one;
    // other types: no limit).
    bool take_peer_slot() noexcept {
        if (peer_limit_ == 0) return true;
        int n = peers_.load(std::memory_order_relaxed);
        do {
            if (n >= peer_limit_) return false;
        } while (!peers_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel));
        return true;
    }
    void give_back_peer_slot() noexcept {
        if (peer_limit_ != 0) peers_.fetch_sub(1, std::memory_order_acq_rel);
    }

    // ROUTER (the socket's thread): a peer has `id` now / has it no more. Throws std::bad_alloc.
    void add_routing_id(std::string_view id) {
        std::lock_guard lock(ids_mutex_);
        ids_.emplace(id);
    }
    void remove_routing_id(std::string_view id) noexcept {
        std::lock_guard lock(ids_mutex_);
        if (auto it = ids_.find(id); it != ids_.end()) ids_.erase(it);
    }
    // A peer has `id` (reactor thread, in the handshake).
    bool routing_id_taken(std::string_view id) const noexcept {
        std::lock_guard lock(ids_mutex_);
        return ids_.find(id) != ids_.end();
    }
    bool router_handover() const noexcept { return handover_.load(std::memory_order_relaxed); }
    void set_router_handover(bool on) noexcept { handover_.store(on, std::memory_order_relaxed); }

private:
    std::atomic<std::int64_t> linger_ms_;
    const int peer_limit_;
    std::atomic<int> peers_{0};
    mutable std::mutex ids_mutex_;
    std::set<std::string, std::less<>> ids_;
    std::atomic<bool> handover_{false};
};

} // namespace volley::detail
