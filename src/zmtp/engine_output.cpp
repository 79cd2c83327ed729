// SPDX-License-Identifier: MPL-2.0
// The ZMTP engine's output: the socket thread's direct sends (try_send), the
// reactor draining the pipe many messages per writev, and the writes
// themselves. See engine.hpp.
#include "zmtp/engine.hpp"

#include "fence.hpp"
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

} // namespace

bool engine::try_send(message& m, bool burst) noexcept {
    const bool more = m.more();
    if (direct_message_) { // the rest of a message whose first frames we took: take it too
        std::lock_guard lock(io_mutex_);
        direct_message_ = more;
        encoding_message_ = more;
        const bool live = (state_ == state::active || state_ == state::lingering) && !failing_;
        try {
            if (live) encode(std::move(m));
        } catch (const std::bad_alloc&) {
            fail(errc::protocol_error, "out of memory encoding a message");
        }
        m.reset(); // taken, or dropped with a connection that ended meanwhile
        if (!more && live && !failing_) flush();
        return true;
    }
    // A burst goes through the pipe, which wakes the reactor (we keep its reader parked).
    if (burst || m.size() >= reactor_message_bytes) return false;
    if (!io_mutex_.try_lock()) return false; // the reactor is at it: it drains the pipe after
    std::lock_guard lock(io_mutex_, std::adopt_lock);
    // Bytes still wait for the kernel (the last write met EAGAIN): the connection is
    // back-pressured, so the message goes into the pipe, whose high-water mark applies.
    if (state_ != state::active || failing_ || !encoder_.empty()) return false;
    try {
        encode(std::move(m));
    } catch (const std::bad_alloc&) {
        fail(errc::protocol_error, "out of memory encoding a message"); // the pipe keeps `m`
        return false;
    }
    if (more) {
        direct_message_ = encoding_message_ = true;
        return true;
    }
    flush();
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
            close(system_error_code(err), std::string("write failed: ") + std::strerror(err));
            return false;
        }
    }
    if (out_enabled_) set_events(in_enabled_, false);
    return true;
}

} // namespace volley::detail
