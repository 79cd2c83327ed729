// SPDX-License-Identifier: MPL-2.0
// The ZMTP engine's input: reading the descriptor into the decoder, frames to
// the pipe (or commands to their handlers), back-pressure when the pipe is
// full, and the socket thread's own reads (poll_input). See engine.hpp.
#include "zmtp/engine.hpp"

#include "pipe.hpp"
#include "registry.hpp"
#include "zmtp/commands.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sys/socket.h>

namespace volley::detail {

using namespace engine_detail;

namespace {

// A socket polling an idle connection backs off between reads, from 0.25 us doubling to
// 16 us, so that spinning for input does not turn into a storm of empty recv() calls.
const std::uint64_t poll_backoff_min = fast_clock::ticks(std::chrono::nanoseconds(250));
const std::uint64_t poll_backoff_max = fast_clock::ticks(std::chrono::microseconds(16));

// A socket that took over input and has not polled for this long gives it back.
constexpr auto input_watchdog = std::chrono::milliseconds(5);

} // namespace

void engine::read_input() noexcept {
    int reads = 0;
    while (state_ < state::lingering && !failing_ && !input_paused_) {
        if (held_) {
            if (!deliver(*held_)) return;
            held_.reset();
        }
        if (state_ == state::greeting) {
            if (!take_greeting()) return;
            continue;
        }
        zmtp::decoder::frame f;
        const auto st = decoder_.next(f);
        if (st == zmtp::decoder::status::frame) {
            if (!handle_frame(f)) return;
            continue;
        }
        if (st == zmtp::decoder::status::error) {
            fail(decoder_.error_code(), decoder_.error_reason());
            return;
        }
        // Level-triggered: we are called again. A large body arriving is read once per
        // wake-up, and the low-water mark delays the wake-up until the rest of it, or a
        // transfer piece of it, is there, so that it is taken in big reads rather than in
        // slivers (fewer syscalls, and on TCP fewer window updates).
        if (++reads > (decoder_.reading_large_body() ? 1 : reads_per_turn)) {
            set_read_lowat();
            return;
        }
        if (!receive()) {
            if (state_ != state::closed && !failing_) set_read_lowat(); // nothing more for now
            return;
        }
    }
}

bool engine::receive() noexcept {
    for (;;) {
        const auto target = decoder_.read_target();
        const ssize_t n = ::recv(fd_, target.data(), target.size(), MSG_DONTWAIT);
        if (n > 0) {
            decoder_.received(static_cast<std::size_t>(n));
            last_received_ = clock::now();
            return true;
        }
        if (n == 0) {
            if (!handshake_done_)
                fail(errc::protocol_error, "the peer closed the connection during the handshake");
            else
                close({}, "the peer closed the connection");
            return false;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            close(system_error_code(errno), std::string("read failed: ") + std::strerror(errno));
        return false;
    }
}

void engine::set_read_lowat() noexcept {
    // While a large body is arriving, a TCP descriptor is readable only once the rest of it,
    // or a transfer piece of it, is there (the kernel caps the mark at half its largest
    // receive buffer): a few wake-ups and recv() calls per body instead of one per segment.
    // tcp 1 MiB, medians of 9 runs: 4.57 k msg/s with it, 3.81 k without, libzmq 4.06 k;
    // 64 KiB bodies are unchanged, and so is ipc (a unix socket's poll ignores the mark;
    // recv() with MSG_DONTWAIT always does).
    const std::size_t rest = decoder_.large_body_remaining();
    const int want = rest == 0 ? 1 : static_cast<int>(std::min(rest, transfer_piece_bytes));
    if (want == lowat_) return;
    if (::setsockopt(fd_, SOL_SOCKET, SO_RCVLOWAT, &want, sizeof want) == 0) lowat_ = want;
}

void engine::read_below_lowat() noexcept {
    if (lowat_ > 1 && !app_input_ && !input_paused_) read_input();
}

bool engine::take_subscription(zmtp::decoder::frame& f) noexcept {
    if (!accepts_subscriptions(info_->type)) return false; // ignored as an unknown command
    const auto cmd = zmtp::parse_command(f.body);
    if (!cmd || (cmd->name != "SUBSCRIBE" && cmd->name != "CANCEL")) return false;
    if (decoder_.in_message()) {
        fail(errc::protocol_error, "the peer sent " + std::string(cmd->name) + " in the middle of a message");
        return false;
    }
    try {
        message topic(cmd->data.data(), cmd->data.size());
        topic.set_control(cmd->name == "SUBSCRIBE" ? message::control::subscribe : message::control::cancel);
        f.body = std::move(topic);
        f.command = false;
    } catch (const std::bad_alloc&) {
        fail(errc::protocol_error, "out of memory reading a subscription");
        return false;
    }
    return true;
}

bool engine::handle_command(const message& body) noexcept {
    const auto cmd = zmtp::parse_command(body);
    if (!cmd) {
        fail(errc::protocol_error, "malformed command");
        return false;
    }
    if (cmd->name == "PING") {
        const auto p = zmtp::parse_ping(cmd->data);
        if (!p) {
            fail(errc::protocol_error, "malformed PING");
            return false;
        }
        if (p->ttl_deciseconds != 0) arm_ttl(std::chrono::milliseconds(p->ttl_deciseconds * 100));
        // One PONG at a time: while the last one is still unwritten (the peer does not
        // read), later PINGs get none. Else a peer that floods PINGs and never reads would
        // grow our output without end; one PONG, when it gets through, answers them all.
        if (encoder_.written() < pong_end_) return true;
        try {
            if (!add_command(zmtp::make_pong(p->context))) return true; // mid-message: the peer asks again
        } catch (const std::bad_alloc&) {
            return true; // no PONG this time; the peer will ask again
        }
        pong_end_ = encoder_.end();
        return flush();
    }
    if (cmd->name == "ERROR") {
        fail(errc::protocol_error, "the peer sent ERROR: " + error_reason(cmd->data));
        return false;
    }
    return true; // PONG (any traffic counts as life), and commands we do not know, are ignored
}

bool engine::deliver(zmtp::decoder::frame& f) noexcept {
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

void engine::resume_input() noexcept {
    if (!input_paused_) return;
    input_paused_ = false;
    last_received_ = clock::now(); // the peer's timers restart from here, not from before the pause
    set_events(state_ != state::lingering, out_enabled_);
    read_input();
}

// ---------------------------------------------------------------- the socket's thread

channel::input engine::poll_input(input_batch* batch) noexcept {
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
        poll_backoff_ = std::clamp(poll_backoff_ * 2, poll_backoff_min, poll_backoff_max);
        next_poll_ticks_ = now + poll_backoff_;
    }
    return got;
}

channel::input engine::app_read(input_batch* batch) noexcept {
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
        const bool to_batch = batch != nullptr && !delivered && !decoder_.in_message();
        zmtp::decoder::frame f;
        message& body = to_batch ? batch->slot() : f.body;
        const auto st = decoder_.next(body, f.command);
        if (st == zmtp::decoder::status::frame) {
            if (to_batch) {
                if (!f.command && !body.more()) {
                    batch->push();
                    batched = true;
                    if (batch->full()) return input::direct;
                    continue;
                }
                f.body = std::move(body);
            }
            if (f.command && !take_subscription(f)) {
                if (failing_ || !handle_command(f.body)) return so_far();
                continue;
            }
            if (!pipe_->write(f.body)) { // the pipe is full: the socket has plenty to read
                held_ = std::move(f);
                return batched ? input::direct : input::queued;
            }
            delivered = true;
            continue;
        }
        if (st == zmtp::decoder::status::error) {
            fail(decoder_.error_code(), decoder_.error_reason());
            return so_far();
        }
        if (batched || delivered || reads++ == 2) return so_far(); // let the socket take what came
        last_app_poll_ = clock::now(); // what the watchdog looks at (see arm_watchdog)
        if (!receive()) return so_far();
    }
    return so_far();
}

void engine::take_input(bool app) noexcept {
    if (app) { // the socket reads from now on: the reactor stops watching input
        app_input_ = true;
        last_app_poll_ = clock::now();
        input_paused_ = false; // what the reactor held back, the socket delivers
        set_events(false, out_enabled_);
        if (watchdog_timer_) return; // still armed from an earlier turn: no need to wake the reactor
        const bool posted = reactor_.post([self = shared_from_this()] {
            std::lock_guard lock(self->io_lock_);
            self->arm_watchdog();
        });
        if (!posted) take_input(false); // no watchdog (out of memory): leave input to the reactor
        return;
    }
    app_input_ = false;
    if (state_ != state::active || failing_) return;
    set_read_lowat(); // the socket may have finished the large body the low-water mark waits for
    set_events(true, out_enabled_);
    // Frames already read from the descriptor will not make it readable again: deliver them.
    if (held_ || !decoder_.idle()) {
        if (on_reactor()) {
            read_input();
        } else {
            // Out of memory, the frames wait for the next readable edge, or the socket's read.
            (void)reactor_.post([self = shared_from_this()] {
                std::lock_guard lock(self->io_lock_);
                if (!self->app_input_) self->read_input();
            });
        }
    }
}

void engine::arm_watchdog() noexcept {
    if (watchdog_timer_ || state_ == state::closed) return;
    arm_timer(watchdog_timer_, "input watchdog", clock::now() + input_watchdog, [this] {
        std::lock_guard lock(io_lock_);
        watchdog_timer_ = {};
        if (state_ == state::closed) return;
        const auto idle = clock::now() - last_app_poll_;
        if (app_input_ && idle >= input_watchdog)
            take_input(false); // the socket stopped polling: PINGs and data must still be read
        // Stay armed while the socket polls now and then (it takes input back and forth as
        // it sleeps and wakes), so that taking input back costs no reactor wake-up.
        if (app_input_ || idle < 20 * input_watchdog) arm_watchdog();
    });
}

void engine::before_sleep() noexcept {
    std::lock_guard lock(io_lock_);
    if (app_input_) take_input(false);
}

} // namespace volley::detail
