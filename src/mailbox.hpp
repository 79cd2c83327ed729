// SPDX-License-Identifier: MPL-2.0
// A mailbox: where other threads tell a socket (or a reactor) that something
// changed (a pipe was attached, a parked pipe became readable or writable
// again, a peer closed its end), and what its thread sleeps on: a futex for
// a socket, or an eventfd that a reactor's epoll watches.
//
// Posting is thread-safe and rare: pipes post only when they cross from
// empty (reader parked) or full (writer parked), never per message. The
// owner polls pending() (one relaxed load) on every call and drains the
// events with take(). Sleeping is an eventcount: prepare_sleep() announces
// the sleeper, then the owner re-checks its pipes, then sleep() blocks
// unless a post (or wake()) arrived since prepare_sleep().
#pragma once

#include "clock.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace volley::detail {

class pipe;

enum class event_kind : std::uint8_t {
    attach,          // a new pipe for this socket (ownership of one reference passes with it)
    read_activated,  // a parked pipe has messages again
    write_activated, // a parked pipe is below its high-water mark again
    peer_closed,     // the peer closed its end of the pipe
    hiccup,          // the connection behind the pipe was lost and a new one is up (resend state)
    connection_lost, // the connection behind a kept pipe (a connect's) ended; another may come
};

struct attachment; // peer.hpp

struct event {
    event_kind kind;
    pipe* target;               // holds one reference to the pipe while queued
    std::uint64_t endpoint_id;  // attach only: which endpoint made the pipe
    std::shared_ptr<const attachment> attached = {}; // attach only: the peer and its channel
};

class mailbox {
public:
    mailbox() = default;
    ~mailbox();
    mailbox(const mailbox&) = delete;
    mailbox& operator=(const mailbox&) = delete;

    // Thread-safe. Queues `e` (taking over its pipe reference) and wakes the owner if it
    // sleeps. After close() the event is dropped and its reference released.
    void post(event e) noexcept;
    // Thread-safe. Wakes the owner without an event (context shutdown).
    void wake() noexcept;
    // Owner only: true when events are waiting.
    bool pending() const noexcept { return pending_.load(std::memory_order_relaxed); }
    // Owner, between prepare_sleep() and sleeping in its own poll: pending(), ordered after
    // the announcement (pairs with post(): either we see the event or it sees us asleep).
    bool pending_before_sleep() const noexcept { return pending_.load(std::memory_order_seq_cst); }
    // Owner only: moves the waiting events into `out` (cleared first).
    void take(std::vector<event>& out) noexcept;
    // Owner only: drops waiting events and refuses later ones.
    void close() noexcept;

    // Owner only: announces that the owner is about to sleep; returns the ticket for sleep().
    // After it, the owner must re-check every condition it waits for (a heavy_fence()
    // separates its parking stores from those re-checks), then call sleep() or cancel_sleep().
    std::uint32_t prepare_sleep() noexcept;
    // Owner only: blocks until a post or wake() since prepare_sleep(), or until `deadline`.
    // Returns false on timeout. Ends the sleep either way.
    bool sleep(std::uint32_t ticket, clock::time_point deadline) noexcept;
    void cancel_sleep() noexcept { sleeping_.store(false, std::memory_order_relaxed); }

    // Owner, before any post: wake the owner by writing to `fd` (an eventfd it polls)
    // instead of a futex. The owner then sleeps in its own poll, between prepare_sleep()
    // and cancel_sleep(), instead of calling sleep().
    void set_wake_fd(int fd) noexcept { wake_fd_ = fd; }

    // ---- waiting outside the mailbox (a poller, the application's own event loop) ----
    // Owner: an eventfd that becomes readable when the owner should look again; made on
    // first use (-1 if that fails). It fires once per arm_fd(): edge-triggered, like
    // libzmq's ZMQ_FD. Closed with the mailbox.
    int signal_fd() noexcept;
    // Owner: like prepare_sleep(), but the next post (or wake()) writes signal_fd() once
    // instead of waking a futex. After it, the owner re-checks what it waits for (parking
    // behind a heavy_fence(), as for sleep()), and then waits on the descriptor, or calls
    // cancel_sleep() if something is ready after all.
    void arm_fd() noexcept;
    // Owner: reads what signal_fd() holds, so that it is not readable until the next post.
    void drain_fd() noexcept;
    // Owner: makes signal_fd() readable now, ending the arming: the owner is due to look.
    void raise_fd() noexcept;

private:
    void notify() noexcept;

    std::mutex mutex_;
    std::vector<event> events_;
    bool closed_ = false;
    alignas(64) std::atomic<bool> pending_{false};
    std::atomic<bool> sleeping_{false};
    std::atomic<std::uint32_t> epoch_{0};
    std::atomic<bool> on_fd_{false}; // the armed sleeper waits on signal_fd_, not the futex
    int wake_fd_ = -1;
    std::atomic<int> signal_fd_{-1};
};

} // namespace volley::detail
