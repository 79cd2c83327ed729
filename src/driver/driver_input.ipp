// SPDX-License-Identifier: MPL-2.0
// The connection driver's input: reading the wire, frames to the pipe (or
// commands to the protocol), back-pressure when the pipe is full, and the
// socket thread's own reads (poll_input). See driver.hpp; included by
// driver_impl.hpp only.

namespace volley::detail {

namespace driver_detail {

// A socket polling an idle connection backs off between reads, from 0.25 us doubling to
// 16 us, so that spinning for input does not turn into a storm of empty reads.
inline const std::uint64_t poll_backoff_min = fast_clock::ticks(std::chrono::nanoseconds(250));
inline const std::uint64_t poll_backoff_max = fast_clock::ticks(std::chrono::microseconds(16));

// A socket that took over input and has not polled for this long gives it back.
inline constexpr auto input_watchdog = std::chrono::milliseconds(5);
inline const std::uint64_t input_watchdog_ticks = fast_clock::ticks(input_watchdog);

} // namespace driver_detail

template <class Wire>
void driver<Wire>::read_input() noexcept {
    int reads = 0;
    while (state_ < state::lingering && !failing_ && !input_paused_) {
        if (held_) {
            if (!deliver(*held_)) return;
            held_.reset();
        }
        frame f;
        const auto st = wire_.next(f.body, f.command);
        if (st == Wire::status::frame) {
            if (!handle_frame(f)) return;
            continue;
        }
        if (st == Wire::status::greeted) {
            if (!on_greeting()) return;
            continue;
        }
        if (st == Wire::status::error) {
            fail(wire_.error_code(), wire_.error_reason());
            return;
        }
        // Level-triggered: we are called again. A large body arriving is read once per
        // wake-up, and the wire's read mark delays the wake-up until the rest of it, or a
        // transfer piece of it, is there, so that it is taken in big reads rather than in
        // slivers (fewer syscalls, and on TCP fewer window updates).
        if (++reads > (wire_.reading_large_body() ? 1 : driver_detail::reads_per_turn)) {
            wire_.set_read_mark();
            return;
        }
        if (!receive()) {
            if (state_ != state::closed && !failing_) wire_.set_read_mark(); // nothing more for now
            return;
        }
    }
}

template <class Wire>
bool driver<Wire>::receive() noexcept {
    int err = 0;
    switch (wire_.receive(err)) {
    case Wire::received::bytes: last_received_ = clock::now(); return true;
    case Wire::received::none: return false;
    case Wire::received::ended:
        if (state_ == state::greeting)
            fail(errc::protocol_error, "the peer closed the connection during the greeting");
        else if (!handshake_done_)
            fail(errc::protocol_error, "the peer closed the connection during the handshake");
        else
            close({}, "the peer closed the connection");
        return false;
    case Wire::received::failed: break;
    }
    close(driver_detail::system_error_code(err), std::string("read failed: ") + std::strerror(err));
    return false;
}

template <class Wire>
void driver<Wire>::read_below_mark() noexcept {
    if (wire_.input_below_mark() && !app_input_ && !input_paused_) read_input();
}

template <class Wire>
bool driver<Wire>::handle_command(frame& f, bool* as_data) noexcept {
    auto r = protocol_.on_command(f.body, wire_.in_message());
    switch (r.what) {
    case zmtp::protocol::action::ignore: return true;
    case zmtp::protocol::action::deliver:
        f.command = false;
        *as_data = true;
        return true;
    case zmtp::protocol::action::fail: fail(errc::protocol_error, std::move(r.reason)); return false;
    case zmtp::protocol::action::ping: break;
    }
    if (r.ttl.count() != 0) arm_ttl(r.ttl);
    // One PONG at a time: while the last one is still unwritten (the peer does not read),
    // later PINGs get none. Else a peer that floods PINGs and never reads would grow our
    // output without end; one PONG, when it gets through, answers them all.
    if (r.pong.empty() || wire_.written() < pong_end_) return true; // none made (out of memory), or one queued
    if (!add_command(std::move(r.pong))) return true; // mid-message, or out of memory: the peer asks again
    pong_end_ = wire_.end();
    return flush();
}

template <class Wire>
bool driver<Wire>::deliver(frame& f) noexcept {
    for (;;) {
        if (pipe_->write(f.body)) return true;
        // The socket's queue is full: stop reading until it makes room (it posts
        // write_activated when it does).
        pipe_->park_writer();
        heavy_fence();
        if (pipe_->writable() && pipe_->unpark_writer()) continue;
        input_paused_ = true;
        set_events(false, out_enabled_);
        return false;
    }
}

template <class Wire>
void driver<Wire>::resume_input() noexcept {
    if (!input_paused_) return;
    input_paused_ = false;
    last_received_ = clock::now(); // the peer's timers restart from here, not from before the pause
    set_events(state_ != state::lingering, out_enabled_);
    read_input();
}

// ---------------------------------------------------------------- the socket's thread

template <class Wire>
channel::input driver<Wire>::poll_input(input_batch* batch) noexcept {
    // No clock read while input keeps coming: the backoff is 0 then.
    std::uint64_t now = 0;
    if (poll_backoff_ != 0) {
        now = fast_clock::now();
        if (now < next_poll_ticks_) return input::nothing; // backing off an idle connection
    }
    if (!io_lock_.try_lock()) return input::nothing; // the reactor holds it: it delivers what arrives
    input got = input::nothing;
    if (state_ == state::active && !failing_) {
        // Only while the socket's thread already read input: then everything the reactor
        // delivered came before the socket found its pipe empty, and messages handed
        // straight to the socket overtake nothing.
        const bool direct_ok = app_input_;
        if (!app_input_) take_input(true);
        got = app_read(direct_ok ? batch : nullptr);
    }
    io_lock_.unlock();
    // Nothing came: wait longer before the next read. Something came: poll again at once.
    if (got != input::nothing) {
        poll_backoff_ = 0;
    } else {
        if (now == 0) now = fast_clock::now();
        poll_backoff_ = std::clamp(poll_backoff_ * 2, driver_detail::poll_backoff_min, driver_detail::poll_backoff_max);
        next_poll_ticks_ = now + poll_backoff_;
    }
    return got;
}

template <class Wire>
channel::input driver<Wire>::app_read(input_batch* batch) noexcept {
    bool batched = false;   // messages went into `batch`
    bool delivered = false; // frames went into the pipe (after those in `batch`)
    const auto so_far = [&] {
        return batched ? input::direct : delivered ? input::queued : input::nothing;
    };
    for (int reads = 0; state_ == state::active && !failing_;) {
        if (held_) {
            if (!pipe_->write(held_->body)) return input::queued; // the socket has plenty to read
            held_.reset();
            delivered = true;
        }
        // A whole one-frame message, nothing queued before it, goes to the socket without a
        // trip through the pipe: decoded in its place in the batch (a move there costs a
        // store-forwarding stall), and moved out again in the rare case it is not one.
        const bool to_batch = batch != nullptr && !delivered && !wire_.in_message();
        frame f;
        message& body = to_batch ? batch->slot() : f.body;
        const auto st = wire_.next(body, f.command);
        if (st == Wire::status::frame) {
            if (to_batch) {
                if (!f.command && !body.more()) {
                    batch->push();
                    batched = true;
                    if (batch->full()) return input::direct;
                    continue;
                }
                f.body = std::move(body);
            }
            if (f.command) {
                bool as_data = false;
                if (failing_ || !handle_command(f, &as_data)) return so_far();
                if (!as_data) continue;
            }
            if (!pipe_->write(f.body)) { // the pipe is full: the socket has plenty to read
                held_ = std::move(f);
                return batched ? input::direct : input::queued;
            }
            delivered = true;
            continue;
        }
        if (st == Wire::status::error) {
            fail(wire_.error_code(), wire_.error_reason());
            return so_far();
        }
        if (batched || delivered || reads++ == 2) return so_far(); // let the socket take what came
        last_app_poll_ = fast_clock::now(); // what the watchdog looks at (see arm_watchdog)
        if (!receive()) return so_far();
    }
    return so_far();
}

template <class Wire>
void driver<Wire>::take_input(bool app) noexcept {
    if (app) { // the socket reads from now on: the reactor stops watching input
        app_input_ = true;
        last_app_poll_ = fast_clock::now();
        input_paused_ = false; // what the reactor held back, the socket delivers
        set_events(false, out_enabled_);
        if (watchdog_timer_) return; // still armed from an earlier turn: no need to wake the reactor
        const bool posted = reactor_.post([self = this->shared_from_this()] {
            std::lock_guard lock(self->io_lock_);
            self->arm_watchdog();
        });
        if (!posted) take_input(false); // no watchdog (out of memory): leave input to the reactor
        return;
    }
    app_input_ = false;
    if (state_ != state::active || failing_) return;
    wire_.set_read_mark(); // the socket may have finished the large body the read mark waits for
    set_events(true, out_enabled_);
    // Frames already read from the wire will not make it readable again: deliver them.
    if (held_ || !wire_.idle()) {
        if (on_reactor()) {
            read_input();
        } else {
            // Out of memory, the frames wait for the next readable edge, or the socket's read.
            (void)reactor_.post([self = this->shared_from_this()] {
                std::lock_guard lock(self->io_lock_);
                if (!self->app_input_) self->read_input();
            });
        }
    }
}

template <class Wire>
void driver<Wire>::arm_watchdog() noexcept {
    if (watchdog_timer_ || state_ == state::closed) return;
    arm_timer(watchdog_timer_, "input watchdog", clock::now() + driver_detail::input_watchdog, [this] {
        std::lock_guard lock(io_lock_);
        watchdog_timer_ = {};
        if (state_ == state::closed) return;
        const std::uint64_t now = fast_clock::now(); // (another CPU's TSC may lag a little)
        const std::uint64_t idle = now > last_app_poll_ ? now - last_app_poll_ : 0;
        if (app_input_ && idle >= driver_detail::input_watchdog_ticks)
            take_input(false); // the socket stopped polling: PINGs and data must still be read
        // Stay armed while the socket polls now and then (it takes input back and forth as
        // it sleeps and wakes), so that taking input back costs no reactor wake-up.
        if (app_input_ || idle < 20 * driver_detail::input_watchdog_ticks) arm_watchdog();
    });
}

template <class Wire>
void driver<Wire>::before_sleep() noexcept {
    std::lock_guard lock(io_lock_);
    if (app_input_) take_input(false);
}

} // namespace volley::detail
