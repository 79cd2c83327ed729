// SPDX-License-Identifier: MPL-2.0
// The connection driver's output: the socket thread's direct sends
// (try_send), the reactor draining the pipe many messages per write, and the
// writes themselves. See driver.hpp; included by driver_impl.hpp only.

namespace volley::detail {

namespace driver_detail {

// Stop pulling messages from the pipe once this much is waiting to be written.
inline constexpr std::size_t batch_bytes = 256 * 1024;
// A message this large always goes to the reactor: sending it takes long enough that the
// socket's thread had better produce the next one meanwhile, and a hand-off costs little
// beside its transmission.
inline constexpr std::size_t reactor_message_bytes = 64 * 1024;
// A burst the socket's thread batches is written by that thread once it holds this much, or
// once its first message has waited batch_age (checked every send_clock::recheck_every
// messages, which a burst sends within 16 x 2 us); the batch timer writes what a burst
// that stopped short left, batch_deadline after its first message: later than the socket's
// own check, so the two do not race while the burst goes on. 64 KiB (the receiver's read
// buffer) against 32 KiB, tcp 64 B, medians of 10 alternating runs: 12.0 M msg/s against
// 10.0 M; the receiver's CPU time per message 70 ns against 94 (fewer, fuller reads). At
// that rate batch_age ends a batch near 40 KiB: a larger bound changes nothing.
inline constexpr std::size_t app_batch_bytes = 64 * 1024;
// Larger messages in a burst go through the pipe: the reactor's thread then encodes and
// writes while ours fills the next bodies, which beats doing both here. tcp throughput,
// medians of 3-5 runs against the pipe for all: 64 B +14-25%, 1 B +21%, 512 B -25%
// batched, 1 KiB -37% batched; 128-256 B within the run-to-run range either way.
inline constexpr std::size_t app_batch_message_bytes = 128;
inline constexpr auto batch_age = std::chrono::microseconds(50);
inline constexpr auto batch_deadline = std::chrono::microseconds(100);
inline const std::uint64_t batch_age_ticks = fast_clock::ticks(batch_age);

} // namespace driver_detail

template <class Wire>
channel::taken driver<Wire>::try_send(message& m, bool burst) noexcept {
    const bool more = m.more();
    if (direct_message_) { // the rest of a message whose first frames we took: take it too
        std::lock_guard lock(io_lock_);
        direct_message_ = more;
        encoding_message_ = more;
        const bool live = (state_ == state::active || state_ == state::lingering) && !failing_;
        try {
            if (live) encode(std::move(m));
        } catch (const std::bad_alloc&) {
            fail(errc::protocol_error, "out of memory encoding a message");
        }
        m.reset(); // taken, or dropped with a connection that ended meanwhile
        if (!more && live && !failing_) end_direct_message();
        return direct_batch_ ? taken::batched : taken::sent;
    }
    if (m.size() >= driver_detail::reactor_message_bytes) return taken::no;
    if (!io_lock_.try_lock()) return taken::no; // the reactor is at it: it drains the pipe after
    std::lock_guard lock(io_lock_, std::adopt_lock);
    // Bytes still wait for the kernel (the last write met EAGAIN): the connection is
    // back-pressured, so the message goes into the pipe, whose high-water mark applies.
    // (Whatever else the wire holds is a batch of ours: this message joins it.)
    if (state_ != state::active || failing_ || out_enabled_) return taken::no;
    if (burst && (m.size() > driver_detail::app_batch_message_bytes || !batch_timer_ready())) return taken::no;
    try {
        encode(std::move(m));
    } catch (const std::bad_alloc&) {
        fail(errc::protocol_error, "out of memory encoding a message"); // the pipe keeps `m`
        return taken::no;
    }
    direct_batch_ = burst;
    if (more) {
        direct_message_ = encoding_message_ = true;
    } else {
        end_direct_message();
    }
    return burst ? taken::batched : taken::sent;
}

template <class Wire>
void driver<Wire>::end_direct_message() noexcept {
    if (!direct_batch_) { // written now, with the batch before it if there is one
        flush();
        return;
    }
    if (!batch_open_) {
        batch_open_ = true;
        batch_messages_ = 0;
        batch_started_ = fast_clock::now();
        batch_timer_->arm(driver_detail::batch_deadline);
    }
    if (wire_.pending() >= driver_detail::app_batch_bytes ||
        (++batch_messages_ % send_clock::recheck_every == 0 && fast_clock::now() - batch_started_ >= driver_detail::batch_age_ticks))
        flush();
}

template <class Wire>
void driver<Wire>::flush_batch() noexcept {
    if (batch_open_ && state_ != state::closed && !failing_ && !out_enabled_) flush();
}

template <class Wire>
void driver<Wire>::write_batch() noexcept {
    std::lock_guard lock(io_lock_);
    flush_batch();
}

template <class Wire>
bool driver<Wire>::batch_timer_ready() noexcept {
    if (batch_timer_) return true;
    if (batch_timer_failed_) return false;
    try {
        batch_timer_ = std::make_unique<precise_timer>(reactor_, [this] {
            std::lock_guard lock(io_lock_);
            flush_batch();
        });
    } catch (...) { // out of descriptors, say: bursts go through the pipe, as they can
        batch_timer_failed_ = true;
        return false;
    }
    return true;
}

template <class Wire>
void driver<Wire>::encode(message&& m) {
    if (m.control_kind() == message::control::none) [[likely]] {
        wire_.add(std::move(m), false);
        return;
    }
    bool command = false;
    if (protocol_.outgoing(m, command)) wire_.add(std::move(m), command);
}

template <class Wire>
bool driver<Wire>::add_command(message&& body) noexcept {
    if (encoding_message_) return false;
    try {
        wire_.add(std::move(body), true);
    } catch (const std::bad_alloc&) {
        return false;
    }
    return true;
}

template <class Wire>
bool driver<Wire>::fill_wire() noexcept {
    // Whole messages only (all their frames are in the pipe already): a PING or PONG added
    // after this must not land between the frames of one message.
    for (bool mid_message = false; mid_message || wire_.pending() < driver_detail::batch_bytes;) {
        message m;
        if (!pipe_->read(m)) return true;
        ++frames_out_;
        mid_message = m.more();
        try {
            encode(std::move(m));
        } catch (const std::bad_alloc&) {
            fail(errc::protocol_error, "out of memory encoding a message");
            return false;
        }
    }
    return true;
}

template <class Wire>
void driver<Wire>::pump_output() noexcept {
    pumping_ = true;
    struct done_pumping {
        bool& flag;
        ~done_pumping() { flag = false; }
    } guard{pumping_};
    while ((state_ == state::active || state_ == state::lingering) && !failing_) {
        if (!fill_wire()) return;
        if (wire_.empty()) {
            if (state_ == state::lingering) {
                end_stream();
                return;
            }
            // Nothing to send: the socket's next message goes straight out (try_send), or
            // into the pipe, which wakes us.
            fence_mode::fence(pipe_->park_reader(output_fence_.symmetric(frames_out_)));
            if (pipe_->readable() && pipe_->unpark_reader()) continue;
            output_parked_ = true;
            return;
        }
        if (!flush() || !wire_.empty()) return; // closed, or EPOLLOUT will bring us back
    }
}

template <class Wire>
bool driver<Wire>::flush() noexcept {
    if (!write_out()) return false;
    // Output was not parked on the pipe: it waited for EPOLLOUT to go on, and emptying the
    // wire turned that off, so nobody would drain the pipe. Go on here (which parks it
    // once the pipe is empty).
    if (wire_.empty() && !output_parked_ && !pumping_) pump_output();
    return state_ != state::closed;
}

template <class Wire>
bool driver<Wire>::write_out() noexcept {
    batch_open_ = false; // the batch leaves now (or, when the wire is full, with EPOLLOUT)
    int err = 0;
    switch (wire_.write(err)) {
    case Wire::wrote::all:
        if (out_enabled_) set_events(in_enabled_, false);
        return true;
    case Wire::wrote::would_block: set_events(in_enabled_, true); return true;
    case Wire::wrote::failed: break;
    }
    if (!handshake_done_ && state_ == state::handshake) {
        if (std::string reason = wire_.refusal_waiting(); !reason.empty()) {
            fail(errc::protocol_error, "the peer refused the handshake: " + reason);
            return false;
        }
    }
    close(driver_detail::system_error_code(err), std::string("write failed: ") + std::strerror(err));
    return false;
}

} // namespace volley::detail
