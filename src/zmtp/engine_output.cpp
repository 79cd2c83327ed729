// SPDX-License-Identifier: MPL-2.0
// The ZMTP engine's output: the socket thread's direct sends (try_send), the
// reactor draining the pipe many messages per writev, and the writes
// themselves. See engine.hpp.
#include "zmtp/engine.hpp"

#include "fence.hpp"
#include "precise_timer.hpp"
#include "pipe.hpp"
#include "zmtp/commands.hpp"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>

namespace volley::detail {

using namespace engine_detail;

namespace {

// Stop pulling messages from the pipe once this much is waiting to be written.
constexpr std::size_t batch_bytes = 256 * 1024;
// A message this large always goes to the reactor: sending it takes long enough that the
// socket's thread had better produce the next one meanwhile, and a hand-off costs little
// beside its transmission.
constexpr std::size_t reactor_message_bytes = 64 * 1024;
// A burst the socket's thread batches is written by that thread once it holds this much, or
// once its first message has waited batch_age (checked every send_clock::recheck_every
// messages, which a burst sends within 16 x 2 us); the batch timer writes what a burst
// that stopped short left, batch_deadline after its first message: later than the socket's
// own check, so the two do not race while the burst goes on. 64 KiB (the receiver's read
// buffer) against 32 KiB, tcp 64 B, medians of 10 alternating runs: 12.0 M msg/s against
// 10.0 M; the receiver's CPU time per message 70 ns against 94 (fewer, fuller reads). At
// that rate batch_age ends a batch near 40 KiB: a larger bound changes nothing.
constexpr std::size_t app_batch_bytes = 64 * 1024;
// Larger messages in a burst go through the pipe: the reactor's thread then encodes and
// writes while ours fills the next bodies, which beats doing both here. tcp throughput,
// medians of 3-5 runs against the pipe for all: 64 B +14-25%, 1 B +21%, 512 B -25%
// batched, 1 KiB -37% batched; 128-256 B within the run-to-run range either way.
constexpr std::size_t app_batch_message_bytes = 128;
constexpr auto batch_age = std::chrono::microseconds(50);
constexpr auto batch_deadline = std::chrono::microseconds(100);
const std::uint64_t batch_age_ticks = fast_clock::ticks(batch_age);

} // namespace

channel::taken engine::try_send(message& m, bool burst) noexcept {
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
    if (m.size() >= reactor_message_bytes) return taken::no;
    if (!io_lock_.try_lock()) return taken::no; // the reactor is at it: it drains the pipe after
    std::lock_guard lock(io_lock_, std::adopt_lock);
    // Bytes still wait for the kernel (the last write met EAGAIN): the connection is
    // back-pressured, so the message goes into the pipe, whose high-water mark applies.
    // (Whatever else the encoder holds is a batch of ours: this message joins it.)
    if (state_ != state::active || failing_ || out_enabled_) return taken::no;
    if (burst && (m.size() > app_batch_message_bytes || !batch_timer_ready())) return taken::no;
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

void engine::end_direct_message() noexcept {
    if (!direct_batch_) { // written now, with the batch before it if there is one
        flush();
        return;
    }
    if (!batch_open_) {
        batch_open_ = true;
        batch_messages_ = 0;
        batch_started_ = fast_clock::now();
        batch_timer_->arm(batch_deadline);
    }
    if (encoder_.pending() >= app_batch_bytes ||
        (++batch_messages_ % send_clock::recheck_every == 0 && fast_clock::now() - batch_started_ >= batch_age_ticks))
        flush();
}

void engine::flush_batch() noexcept {
    if (batch_open_ && state_ != state::closed && !failing_ && !out_enabled_) flush();
}

void engine::write_batch() noexcept {
    std::lock_guard lock(io_lock_);
    flush_batch();
}

bool engine::batch_timer_ready() noexcept {
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

void engine::encode(message&& m) {
    const auto c = m.control_kind();
    if (c == message::control::none) [[likely]] {
        encoder_.add(std::move(m), false);
        return;
    }
    if (c == message::control::reset) { // never on the wire: see awaiting_reset_
        awaiting_reset_ = false;
        return;
    }
    if (awaiting_reset_) return; // queued for the lost connection: the socket resends it
    const bool subscribe = c == message::control::subscribe;
    if (peer_minor_ >= 1)
        encoder_.add(zmtp::make_subscription(subscribe, m.view()), true);
    else
        encoder_.add(zmtp::make_subscription_message(subscribe, m.view()), false);
}

bool engine::add_command(message&& body) noexcept {
    if (encoding_message_) return false;
    try {
        encoder_.add(std::move(body), true);
    } catch (const std::bad_alloc&) {
        return false;
    }
    return true;
}

bool engine::fill_encoder() noexcept {
    // Whole messages only (all their frames are in the pipe already): a PING or PONG added
    // after this must not land between the frames of one message.
    for (bool mid_message = false; mid_message || encoder_.pending() < batch_bytes;) {
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

void engine::pump_output() noexcept {
    pumping_ = true;
    struct done_pumping {
        bool& flag;
        ~done_pumping() { flag = false; }
    } guard{pumping_};
    while ((state_ == state::active || state_ == state::lingering) && !failing_) {
        if (!fill_encoder()) return;
        if (encoder_.empty()) {
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
        if (!flush() || !encoder_.empty()) return; // closed, or EPOLLOUT will bring us back
    }
}

bool engine::flush() noexcept {
    if (!write_out()) return false;
    // Output was not parked on the pipe: it waited for EPOLLOUT to go on, and emptying the
    // encoder turned that off, so nobody would drain the pipe. Go on here (which parks it
    // once the pipe is empty).
    if (encoder_.empty() && !output_parked_ && !pumping_) pump_output();
    return state_ != state::closed;
}

bool engine::write_out() noexcept {
    batch_open_ = false; // the batch leaves now (or, on EAGAIN, with EPOLLOUT)
    while (!encoder_.empty()) {
        iovec iov[64];
        msghdr mh{};
        mh.msg_iov = iov;
        mh.msg_iovlen = static_cast<std::size_t>(encoder_.gather(iov, 64, transfer_piece_bytes));
        const ssize_t n = ::sendmsg(fd_, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            encoder_.consumed(static_cast<std::size_t>(n));
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_events(in_enabled_, true);
            return true;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            const int err = n < 0 ? errno : EPIPE;
            if (!handshake_done_) {
                if (std::string reason = refusal_waiting(); !reason.empty()) {
                    fail(errc::protocol_error, "the peer refused the handshake: " + reason);
                    return false;
                }
            }
            close(system_error_code(err), std::string("write failed: ") + std::strerror(err));
            return false;
        }
    }
    if (out_enabled_) set_events(in_enabled_, false);
    return true;
}

} // namespace volley::detail
