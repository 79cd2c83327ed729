// SPDX-License-Identifier: MPL-2.0
// channel: the explicit fast path from a socket's thread into one of its
// connections. The pipe between them is a passive queue; a socket that
// would otherwise wait for the I/O thread calls its channel instead:
//
//   socket thread                           I/O thread (reactor)
//   link::write -- pipe empty? --> channel::try_send: encode, write the fd
//        \-- else --> pipe.write ----------------------> connection drains the pipe
//   link::read  -- pipe empty? --> channel::poll_input: read the fd, decode
//
// A channel belongs to one connection; the session that owns the pipe
// publishes the current connection's channel in a channel_slot, which the
// socket side reads (cached, one acquire load per call) across reconnects.
#pragma once

#include "clock.hpp"

#include <volley/message.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>

namespace volley::detail {

// When the socket's thread last returned from a send, kept by the socket and read by its
// links: a message sent soon after that is part of a burst, which goes through the pipes
// (the I/O thread sends it with others, many per write) rather than straight out, one
// syscall each. One clock per socket, not per connection: a publisher cycling through many
// connections sends bursts too, though each connection sees only every n-th message.
struct send_clock {
    // Messages closer together than this (from the return of one send to the next) are a burst.
    static constexpr auto burst_gap = std::chrono::microseconds(2);
    std::uint64_t last_return = 0; // fast_clock ticks
    std::uint64_t started = 0;     // fast_clock ticks at the start of the send under way
    bool used = false;             // some link has a channel: the socket keeps the times
    const std::uint64_t gap = fast_clock::ticks(burst_gap);
    bool burst() const noexcept { return started - last_return < gap; }
};

class channel {
public:
    virtual ~channel() = default;
    // Socket thread. Takes frame `m` (moving from it) and returns true when the connection
    // can send it now, in order: the caller has checked that nothing of this connection's
    // output waits in the pipe; `burst` says the socket sends back to back (see send_clock).
    // False leaves `m` alone; the caller queues it in the pipe.
    // Once it took the first frame of a message, it takes every later frame of that
    // message (a connection that ended meanwhile drops them), so a message never straddles
    // the pipe and the channel.
    virtual bool try_send(message& m, bool burst) noexcept = 0;
    // Socket thread, its pipe from this connection is empty: brings in what the connection
    // has. True if a message may have arrived.
    virtual bool poll_input() noexcept = 0;
    // Socket thread, about to sleep: the I/O thread watches the connection again.
    virtual void before_sleep() noexcept = 0;
};

// Where a session publishes the channel of its current connection (none between
// connections). Written on the I/O thread, read on the socket's thread.
class channel_slot {
public:
    void publish(std::shared_ptr<channel> c) noexcept {
        std::lock_guard lock(mutex_);
        current_ = std::move(c);
        gen_.fetch_add(1, std::memory_order_release);
    }

    // The socket side's copy, refreshed when the slot changed.
    class reader {
    public:
        channel* get(channel_slot& s) noexcept {
            const std::uint32_t gen = s.gen_.load(std::memory_order_acquire);
            if (gen != gen_) {
                std::lock_guard lock(s.mutex_);
                cached_ = s.current_;
                gen_ = s.gen_.load(std::memory_order_relaxed);
            }
            return cached_.get();
        }
        // The channel get() returned last, not refreshed (for the rest of a message).
        channel* cached() const noexcept { return cached_.get(); }

    private:
        std::shared_ptr<channel> cached_;
        std::uint32_t gen_ = 0;
    };

private:
    std::mutex mutex_;
    std::shared_ptr<channel> current_;
    std::atomic<std::uint32_t> gen_{0};
};

} // namespace volley::detail
