// SPDX-License-Identifier: MPL-2.0
// channel: the explicit fast path from a socket's thread into one of its
// connections. The pipe between them is a passive queue; a socket that
// would otherwise wait for the I/O thread calls its channel instead:
//
//   socket thread                           I/O thread (reactor)
//   link::write -- pipe empty? --> channel::try_send: encode, write the fd (or batch)
//        \-- else --> pipe.write ----------------------> connection drains the pipe
//   link::read  -- batch and pipe empty? --> channel::poll_input: read the fd, decode
//                                  (whole one-frame messages into the link's input_batch,
//                                  the rest into the pipe)
//
// A channel belongs to one connection; the session that owns the pipe
// publishes the current connection's channel in a channel_slot, which the
// socket side reads (cached, one acquire load per call) across reconnects.
#pragma once

#include "clock.hpp"

#include <volley/message.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <utility>

namespace volley::detail {

// Whether the socket's thread sends back to back, kept by the socket and asked by its links:
// a message sent in a burst is batched (by the connection, or in the pipe for the I/O
// thread) rather than written out alone, one syscall each. One clock per socket, not per
// connection: a publisher cycling through many connections sends bursts too, though each
// connection sees only every n-th message.
//
// The clock is read only when a link asks (its pipe is empty, so the message could go
// straight out) and when a message did go straight out; a message queued or batched costs
// no clock read (two TSC reads a message took 8-9% of 64-byte tcp throughput here, one
// 10%). The question asked is "has the socket sent at least one message per burst_gap
// since the clock was last read": the sends in between are counted, so after n of them
// the window is n x burst_gap (at most window_cap of them: a burst followed by a pause is
// not a burst any more). With nothing in between this is the time from the return of the
// last send to the start of this one, as a latency-bound socket sees it. Once the clock
// said "burst", it is believed for recheck_every messages without reading it again, unless
// the socket waited meanwhile (interrupted()): a burst that stops short has at most that
// many batched too eagerly, which the connection writes out within its batch deadline.
struct send_clock {
    static constexpr auto burst_gap = std::chrono::microseconds(2);
    static constexpr std::uint64_t window_cap = 1024;
    static constexpr std::uint64_t recheck_every = 16;
    bool used = false; // some link has a channel: the socket keeps the clock
    const std::uint64_t gap = fast_clock::ticks(burst_gap);

    // socket_base::send, at the first frame of a message.
    void begin() noexcept {
        decided_ = false;
        clocked_ = false;
        went_direct_ = false;
    }
    // link::write, its pipe empty: is this message part of a burst? Asked once per message
    // (every link of a publisher gets the same answer).
    bool burst() noexcept {
        if (decided_) return burst_;
        decided_ = true;
        if (burst_ && unclocked_ < recheck_every) return true;
        const std::uint64_t now = fast_clock::now();
        burst_ = now - mark_ < gap * std::min(unclocked_ + 1, window_cap);
        mark_ = now;
        unclocked_ = 0;
        clocked_ = true;
        return burst_;
    }
    // link::write: the connection wrote the message out straight away.
    void went_direct() noexcept { went_direct_ = true; }
    // socket_base::send, after the last frame.
    void end() noexcept {
        if (went_direct_) { // the next message is timed from this return
            mark_ = fast_clock::now();
            unclocked_ = 0;
        } else if (!clocked_ && unclocked_ < window_cap) {
            ++unclocked_;
        }
    }
    // link::write: a connection kept the message in a batch.
    void batched() noexcept { batched_ = true; }
    // socket_base: the socket is about to wait. The next message is not believed part of a
    // burst until the clock says so. True when some connection may hold a batch of ours,
    // which the socket then writes out rather than leave it to the batch deadline.
    bool interrupted() noexcept {
        burst_ = false;
        return std::exchange(batched_, false);
    }

private:
    std::uint64_t mark_ = 0;      // fast_clock ticks of the last read
    std::uint64_t unclocked_ = 0; // messages sent since then without reading the clock
    bool decided_ = false;        // burst() was asked during the message under way
    bool clocked_ = false;        // and read the clock for it
    bool burst_ = false;          // the last answer
    bool went_direct_ = false;    // the message under way went straight out on some link
    bool batched_ = false;        // some link's connection batched a message since the last wait
};

// Whole one-frame messages a connection hands straight to its socket's thread
// (channel::poll_input), which link::read serves before its pipe: a socket reading a
// stream of small messages takes the connection's lock once per batch, not once per
// message, and the messages skip the pipe. Filled only while empty, and only with
// messages that overtake nothing in the pipe; the socket's thread alone uses it.
class input_batch {
public:
    static constexpr std::uint32_t capacity = 16;
    bool empty() const noexcept { return next_ == end_; }
    bool full() const noexcept { return end_ == capacity; }
    // The next free place, to build a message in; push() then counts it in.
    message& slot() noexcept { return items_[end_]; }
    void push() noexcept { ++end_; }
    void pop(message& m) noexcept {
        m = std::move(items_[next_++]);
        if (next_ == end_) next_ = end_ = 0;
    }

private:
    std::array<message, capacity> items_;
    std::uint32_t next_ = 0;
    std::uint32_t end_ = 0;
};

class channel {
public:
    virtual ~channel() = default;
    // What try_send did with a frame.
    enum class taken {
        no,      // left alone: the caller queues it in the pipe
        sent,    // written out now (with whatever the connection had batched before it)
        batched, // kept to be written with the frames that follow (a burst), within a deadline
    };
    // Socket thread. Takes frame `m` (moving from it) when the connection can send it now,
    // in order: the caller has checked that nothing of this connection's output waits in
    // the pipe; `burst` says the socket sends back to back (see send_clock), so the
    // connection may batch it rather than write it at once.
    // Once it took the first frame of a message, it takes every later frame of that
    // message (a connection that ended meanwhile drops them), so a message never straddles
    // the pipe and the channel.
    virtual taken try_send(message& m, bool burst) noexcept = 0;
    // Socket thread, about to wait: writes out what the connection batched (blocks on the
    // connection's lock while the I/O thread holds it).
    virtual void write_batch() noexcept = 0;
    // What poll_input brought in.
    enum class input {
        nothing, // no message
        queued,  // messages went into the pipe only
        direct,  // messages went into the batch (and maybe more, after them, into the pipe)
    };
    // Socket thread, its pipe from this connection and `batch` (if any) empty: brings in
    // what the connection has, the first whole one-frame messages into `batch`.
    virtual input poll_input(input_batch* batch) noexcept = 0;
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
