// SPDX-License-Identifier: MPL-2.0
// socket_shared: what a socket's connections read of it while they live, one object shared
// by every endpoint the socket makes (endpoint_info copies the rest when the endpoint is made):
//   - linger, a live option: the context's end reads the value the socket has then;
//   - the peer slots of an exclusive socket (PAIR takes one peer): a session takes one for
//     its pipe, so a further peer is refused in its handshake instead of being accepted and
//     dropped by the socket (session::admit).
// Any thread.
#pragma once

#include <volley/socket.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>

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

private:
    std::atomic<std::int64_t> linger_ms_;
    const int peer_limit_;
    std::atomic<int> peers_{0};
};

} // namespace volley::detail
