// SPDX-License-Identifier: MPL-2.0
// precise_timer: a one-shot timer that any thread may arm, with microsecond
// precision, whose expiry runs a callback on the reactor thread. It is a
// timerfd in the reactor's epoll set. The reactor's own timers
// (reactor::add_timer) are armed on its thread and fire at millisecond
// granularity, which suits reconnects and heartbeats; this one is for the
// short deadlines a socket's thread sets without waking the reactor, such
// as "write out this batch within 50 us unless I do it first" (driver/driver.hpp).
//
// Arming again replaces the deadline, so a thread that keeps pushing a
// deadline ahead of it never lets the timer fire: one timerfd_settime()
// call per arm, and no wake-up of the reactor.
#pragma once

#include "reactor.hpp"

#include <chrono>
#include <functional>

namespace volley::detail {

class precise_timer final : public io_handler {
public:
    // Any thread: creates the timerfd and adds it to `r`'s epoll set. `fire` runs on the
    // reactor thread at each expiry. Throws std::system_error (out of descriptors, ...).
    precise_timer(reactor& r, std::function<void()> fire);
    ~precise_timer() override;
    precise_timer(const precise_timer&) = delete;
    precise_timer& operator=(const precise_timer&) = delete;

    // Any thread: the timer fires once, `after` from now, unless armed again before that.
    // arm() and close() must not run at once (the owner serialises them: a lock).
    void arm(std::chrono::nanoseconds after) noexcept;
    // Any thread: takes the timerfd out of the epoll set and closes it; it never fires
    // again. The object must outlive the reactor's current batch of events (the owner is
    // retired with it), since that batch may still name it: such an event is ignored.
    void close() noexcept;

    void on_io(std::uint32_t events) noexcept override;

private:
    reactor& reactor_;
    std::function<void()> fire_;
    int fd_ = -1;
};

} // namespace volley::detail
