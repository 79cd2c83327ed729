// SPDX-License-Identifier: MPL-2.0
// The ZMTP engine's life: start, the handshake (greeting, READY), heartbeats,
// linger and the half-close, closing. Input and output are in
// engine_input.cpp and engine_output.cpp. See engine.hpp; wire format in wire.hpp.
#include "zmtp/engine.hpp"

#include "monitor_queue.hpp"
#include "peer_text.hpp"
#include "pipe.hpp"
#include "precise_timer.hpp"
#include "registry.hpp"
#include "zmtp/commands.hpp"

#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace volley::detail {

namespace engine_detail {

std::error_code system_error_code(int err) noexcept {
    return {err, std::system_category()};
}

std::string ms_text(std::chrono::milliseconds d) {
    return std::to_string(d.count()) + " ms";
}

std::string error_reason(std::span<const std::byte> error_data) {
    const auto reason = zmtp::parse_error(error_data);
    return reason ? quote_peer(*reason, 120) : "(malformed ERROR)"; // meant for people: quote more
}

} // namespace engine_detail

using namespace engine_detail;

engine::engine(reactor& r, int fd, std::shared_ptr<session> s)
    : reactor_(r), fd_(fd), session_(std::move(s)), info_(session_->info()) {
    decoder_.set_limits(info_->options.maxmsgsize, info_->options.input_budget);
    decoder_.set_handshake(true); // until READY: no frame larger than the handshake needs
}

engine::~engine() {
    if (fd_ >= 0) ::close(fd_);
}

void engine::start() noexcept {
    std::lock_guard lock(io_lock_);
    session_->connection_started(*this);
    set_events(true, false);
    if (state_ == state::closed) return; // epoll refused the descriptor: reported, and retired
    last_received_ = clock::now();
    try {
        const auto ivl = info_->options.handshake_ivl;
        if (ivl.count() > 0) {
            arm_timer(handshake_timer_, "handshake", clock::now() + ivl, [this, ivl] {
                std::lock_guard lock(io_lock_);
                handshake_timer_ = {};
                if (!handshake_done_) fail(errc::timed_out, "ZMTP handshake not completed within " + ms_text(ivl));
            });
        }
        std::byte greeting[zmtp::greeting_size];
        zmtp::write_greeting(greeting, "NULL", false);
        encoder_.add_raw(greeting, sizeof greeting);
    } catch (const std::bad_alloc&) {
        fail(errc::protocol_error, "out of memory starting the connection");
        return;
    }
    flush();
}

void engine::on_io(std::uint32_t events) noexcept {
    std::lock_guard lock(io_lock_);
    if (state_ == state::closed) return;
    if ((events & EPOLLOUT) != 0) {
        if (!flush()) return;
        if (encoder_.empty()) pump_output();
    }
    if (state_ == state::closed) return;
    if (in_enabled_ && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
        if (state_ == state::half_closed)
            read_to_end();
        else
            read_input();
    }
}

void engine::pipe_readable() noexcept {
    // The reactor yielded once before this batch of pipe events (reactor.cpp).
    std::lock_guard lock(io_lock_);
    if (state_ != state::active && state_ != state::lingering) return;
    output_parked_ = false;
    pump_output();
}

void engine::pipe_writable() noexcept {
    std::lock_guard lock(io_lock_);
    if (state_ != state::closed) resume_input();
}

void engine::drain(clock::time_point deadline) noexcept {
    std::lock_guard lock(io_lock_);
    linger(deadline);
}

// ---------------------------------------------------------------- handshake

bool engine::take_greeting() noexcept {
    const ssize_t n = ::recv(fd_, peer_greeting_ + greeting_received_, zmtp::greeting_size - greeting_received_,
                             MSG_DONTWAIT);
    if (n == 0) {
        fail(errc::protocol_error, "the peer closed the connection during the greeting");
        return false;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
        if (errno == EINTR) return true;
        close(system_error_code(errno), std::string("read failed: ") + std::strerror(errno));
        return false;
    }
    greeting_received_ += static_cast<std::size_t>(n);
    last_received_ = clock::now();
    if (auto reason = zmtp::check_greeting_prefix(peer_greeting_, greeting_received_); !reason.empty()) {
        fail(errc::protocol_error, reason);
        return false;
    }
    if (greeting_received_ < zmtp::greeting_size) return true;
    zmtp::greeting g;
    if (auto reason = zmtp::parse_greeting(peer_greeting_, g); !reason.empty()) {
        fail(errc::protocol_error, reason);
        return false;
    }
    if (g.mechanism != "NULL") {
        fail(errc::protocol_error,
             "the peer wants the " + quote_peer(g.mechanism) + " security mechanism; this socket uses NULL");
        return false;
    }
    peer_minor_ = g.major > 3 ? 1 : g.minor;
    state_ = state::handshake;
    std::string reason, detail;
    if (const errc refused = session_->admit_any(reason, detail); refused != errc{}) {
        refuse(refused, reason, detail); // in place of our READY
        return false;
    }
    const auto t = info_->type;
    const bool send_identity = t == socket_type::req || t == socket_type::dealer || t == socket_type::router;
    try {
        encoder_.add(zmtp::make_ready(t, send_identity ? &info_->options.routing_id : nullptr), true);
    } catch (const std::bad_alloc&) {
        fail(errc::protocol_error, "out of memory writing READY");
        return false;
    }
    return flush();
}

bool engine::handle_frame(zmtp::decoder::frame& f) noexcept {
    if (state_ == state::handshake) {
        if (!f.command) {
            fail(errc::protocol_error, "the peer sent a message before READY");
            return false;
        }
        const auto cmd = zmtp::parse_command(f.body);
        if (!cmd) {
            fail(errc::protocol_error, "malformed command during the handshake");
            return false;
        }
        if (cmd->name == "READY") return handle_ready(cmd->data);
        if (cmd->name == "ERROR") {
            fail(errc::protocol_error, "the peer refused the handshake: " + error_reason(cmd->data));
            return false;
        }
        fail(errc::protocol_error, "expected READY, got " + quote_peer(cmd->name));
        return false;
    }
    if (f.command && !take_subscription(f)) return state_ < state::lingering && handle_command(f.body);
    if (!deliver(f)) {
        held_ = std::move(f);
        return false;
    }
    return true;
}

bool engine::handle_ready(std::span<const std::byte> data) noexcept {
    peer_properties peer;
    try {
        zmtp::properties props;
        if (auto reason = zmtp::parse_properties(data, props); !reason.empty()) {
            fail(errc::protocol_error, reason);
            return false;
        }
        const std::string* type_name = zmtp::find_property(props, "Socket-Type");
        if (type_name == nullptr) {
            fail(errc::protocol_error, "READY without a Socket-Type");
            return false;
        }
        const auto peer_type = zmtp::socket_type_from_name(*type_name);
        if (!peer_type) {
            fail(errc::protocol_error, "unknown peer socket type " + quote_peer(*type_name));
            return false;
        }
        peer.type = *peer_type; // type_name is not used below: the loop moves from props
        for (auto& [name, value] : props) {
            if (zmtp::same_property_name(name, "Identity"))
                peer.routing_id = std::move(value);
            else if (!zmtp::same_property_name(name, "Socket-Type"))
                peer.metadata.emplace_back(std::move(name), std::move(value));
        }
    } catch (const std::bad_alloc&) {
        fail(errc::protocol_error, "out of memory reading READY");
        return false;
    }
    std::string reason, detail;
    if (const errc refused = session_->admit(peer, reason, detail); refused != errc{}) {
        refuse(refused, reason, detail);
        return false;
    }
    on_established(std::move(peer));
    return state_ != state::closed && !failing_;
}

void engine::refuse(errc why, const std::string& reason, const std::string& detail) noexcept {
    // Tell the peer why, if it still listens (libzmq may have hung up already): a failed
    // write must not hide the reason we refuse it.
    try {
        if (!reason.empty()) {
            encoder_.add(zmtp::make_error(reason), true);
            iovec iov[8];
            msghdr mh{};
            mh.msg_iov = iov;
            mh.msg_iovlen = static_cast<std::size_t>(encoder_.gather(iov, 8));
            [[maybe_unused]] const ssize_t n = ::sendmsg(fd_, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
    } catch (const std::bad_alloc&) {
    }
    fail(why, detail.empty() ? "the peer was refused" : detail);
}

std::string engine::refusal_waiting() noexcept {
    if (state_ != state::handshake) return {};
    std::uint8_t buf[2 + 255];                       // one short command frame: flags, size, body
    const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 2 || (buf[0] & (zmtp::flag_long | zmtp::flag_command)) != zmtp::flag_command) return {}; // a short command?
    if (n < 2 + static_cast<ssize_t>(buf[1])) return {};
    try {
        const message body(buf + 2, buf[1]); // the command's views point into it
        const auto cmd = zmtp::parse_command(body);
        if (!cmd || cmd->name != "ERROR") return {};
        return error_reason(cmd->data);
    } catch (const std::bad_alloc&) {
        return {};
    }
}

void engine::on_established(peer_properties peer) noexcept {
    clock::time_point drain_by = clock::time_point::max();
    bool reconnected = false;
    std::shared_ptr<engine> self;
    try {
        self = shared_from_this();
    } catch (const std::bad_weak_ptr&) {
    }
    pipe_ = session_->connection_up(*this, std::move(peer), self, drain_by, reconnected);
    // A subscriber's kept pipe may still hold subscriptions meant for the lost connection; the
    // socket resends them all behind a reset marker, and those before it must not go.
    awaiting_reset_ = reconnected && (info_->type == socket_type::sub || info_->type == socket_type::xsub);
    if (pipe_ == nullptr) {
        fail(errc::protocol_error, "the socket cannot take the connection (closed, or out of memory)");
        return;
    }
    handshake_done_ = true;
    decoder_.set_handshake(false);
    state_ = state::active;
    reactor_.cancel_timer(handshake_timer_);
    emit(info_->monitor, event_type::handshake_succeeded, info_->endpoint);
    const auto ivl = info_->options.heartbeat_ivl;
    if (ivl.count() > 0 && peer_minor_ >= 1)
        arm_timer(heartbeat_timer_, "heartbeat", clock::now() + ivl, [this] {
            std::lock_guard lock(io_lock_);
            send_ping();
        });
    if (drain_by != clock::time_point::max()) { // the socket closed during the handshake
        linger(drain_by);
        return;
    }
    output_parked_ = false;
    pump_output(); // what the socket queued before the connection was up
}

// ---------------------------------------------------------------- heartbeats

void engine::send_ping() noexcept {
    heartbeat_timer_ = {};
    if (state_ != state::active) return;
    const auto& o = info_->options;
    try {
        if (encoder_.written() >= ping_end_ && // the last PING left: the peer reads (see pong_end_)
            add_command(zmtp::make_ping(static_cast<std::uint16_t>(o.heartbeat_ttl.count() / 100), {})))
            ping_end_ = encoder_.end();
    } catch (const std::bad_alloc&) {
    }
    ping_sent_ = clock::now();
    if (!heartbeat_timeout_timer_) {
        const auto timeout = o.heartbeat_timeout.count() > 0 ? o.heartbeat_timeout : o.heartbeat_ivl;
        const auto sent = ping_sent_;
        arm_timer(heartbeat_timeout_timer_, "heartbeat timeout", sent + timeout, [this, sent, timeout] {
            std::lock_guard lock(io_lock_);
            heartbeat_timeout_timer_ = {};
            read_below_lowat(); // bytes of a large body the peer is still sending count as life
            if (state_ != state::closed && !failing_ && last_received_ < sent && !silence_is_ours())
                fail(errc::timed_out, "heartbeat: nothing from the peer within " + ms_text(timeout) + " of a PING");
        });
    }
    if (!flush()) return;
    arm_timer(heartbeat_timer_, "heartbeat", ping_sent_ + o.heartbeat_ivl, [this] {
        std::lock_guard lock(io_lock_);
        send_ping();
    });
}

bool engine::silence_is_ours() const noexcept {
    // We did not read: the socket's pipe is full (input paused), or the socket's thread
    // holds a frame for it, or bytes wait in the kernel, where the peer's PONG may sit
    // behind them. A slow consumer, or a socket thread the scheduler kept off its CPU,
    // must not cost the connection (and with it what the kernel holds for us).
    if (input_paused_ || held_) return true;
    int unread = 0;
    return ::ioctl(fd_, FIONREAD, &unread) == 0 && unread > 0;
}

void engine::arm_ttl(std::chrono::milliseconds ttl) noexcept {
    peer_ttl_ = ttl;
    if (!on_reactor()) { // timers live on the reactor; one request on its way is enough
        if (ttl_posted_ || ttl_timer_) return;
        ttl_posted_ = reactor_.post([self = shared_from_this()] {
            std::lock_guard lock(self->io_lock_);
            self->ttl_posted_ = false;
            if (self->state_ != state::closed) self->arm_ttl(self->peer_ttl_);
        }); // not posted (out of memory): the next PING asks again
        return;
    }
    if (ttl_timer_) return;
    arm_timer(ttl_timer_, "TTL", last_received_ + ttl, [this] {
        std::lock_guard lock(io_lock_);
        ttl_timer_ = {};
        read_below_lowat();
        if (state_ == state::closed || failing_) return;
        if (silence_is_ours()) last_received_ = clock::now();
        if (clock::now() - last_received_ >= peer_ttl_) {
            fail(errc::timed_out, "heartbeat: nothing from the peer within its TTL of " + ms_text(peer_ttl_));
            return;
        }
        arm_ttl(peer_ttl_);
    });
}

// ---------------------------------------------------------------- linger and the end

void engine::linger(clock::time_point deadline) noexcept {
    if (state_ >= state::lingering) return;
    if (!handshake_done_) { // the session keeps a handshake going only to deliver, and says so at the end
        close({}, "closed during the handshake");
        return;
    }
    state_ = state::lingering;
    held_.reset(); // the socket will not read any more
    set_events(false, out_enabled_);
    arm_linger_timer(deadline);
    output_parked_ = false;
    pump_output();
}

void engine::arm_linger_timer(clock::time_point deadline) noexcept {
    reactor_.cancel_timer(linger_timer_);
    if (deadline == clock::time_point::max()) return;
    arm_timer(linger_timer_, "linger", deadline, [this] {
        std::lock_guard lock(io_lock_);
        linger_timer_ = {};
        if (state_ == state::half_closed) // everything was written; the peer may not have read it all
            close({}, "closed by the socket; linger ended before the peer closed its end");
        else
            fail(errc::timed_out, "linger period over with messages still unsent");
    });
}

void engine::end_stream() noexcept {
    if (::shutdown(fd_, SHUT_WR) != 0) { // the peer is gone already
        close({}, "closed by the socket");
        return;
    }
    state_ = state::half_closed;
    app_input_ = false;
    if (lowat_ != 1) { // the end of the peer's stream must wake us, whatever we waited for
        const int one = 1;
        if (::setsockopt(fd_, SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one) == 0) lowat_ = 1;
    }
    set_events(true, false);
    if (state_ == state::half_closed) read_to_end(); // the peer may have closed already
}

void engine::read_to_end() noexcept {
    std::byte discard[4096]; // nobody reads this connection any more
    for (int reads = 0; reads < reads_per_turn && state_ == state::half_closed; ++reads) {
        const ssize_t n = ::recv(fd_, discard, sizeof discard, MSG_DONTWAIT);
        if (n > 0) continue;
        if (n == 0) {
            close({}, "closed by the socket");
            return;
        }
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            close(system_error_code(errno),
                  std::string("closed by the socket; then read failed: ") + std::strerror(errno));
        return;
    }
}

void engine::set_events(bool in, bool out) noexcept {
    if (in == in_enabled_ && out == out_enabled_ && (registered_ || (!in && !out))) return;
    // epoll reports hang-ups and errors whatever the mask, so a descriptor we want nothing
    // from is taken out of the set (a paused connection whose peer hung up would spin).
    std::error_code refused;
    const std::uint32_t events = (in ? EPOLLIN : 0u) | (out ? EPOLLOUT : 0u);
    if (!in && !out) {
        if (registered_) reactor_.remove(fd_);
        registered_ = false;
    } else if (!registered_) {
        refused = reactor_.add(fd_, events, this);
        registered_ = !refused;
    } else {
        refused = reactor_.modify(fd_, events, this);
    }
    if (refused) {
        in_enabled_ = in;
        out_enabled_ = out;
        close(refused, "epoll_ctl failed: " + refused.message());
        return;
    }
    in_enabled_ = in;
    out_enabled_ = out;
}

void engine::fail(errc code, std::string detail) noexcept {
    close(make_error_code(code), std::move(detail));
}

void engine::close(std::error_code why, std::string detail) noexcept {
    if (state_ == state::closed || failing_) return;
    if (on_reactor()) {
        close_now(why, std::move(detail));
        return;
    }
    // The socket's thread found the connection broken: stop moving bytes, let the reactor close.
    failing_ = reactor_.post([self = shared_from_this(), why, detail = std::move(detail)]() mutable {
        std::lock_guard lock(self->io_lock_);
        self->failing_ = false;
        self->close_now(why, std::move(detail));
    }); // not posted (out of memory): the next call that finds it broken tries again
}

void engine::close_now(std::error_code why, std::string detail) noexcept {
    if (state_ == state::closed) return;
    state_ = state::closed;
    for (auto* t : {&handshake_timer_, &heartbeat_timer_, &heartbeat_timeout_timer_, &ttl_timer_, &linger_timer_,
                    &watchdog_timer_})
        reactor_.cancel_timer(*t);
    if (registered_) reactor_.remove(fd_);
    registered_ = false;
    if (batch_timer_) batch_timer_->close();
    batch_open_ = false;
    ::close(fd_);
    fd_ = -1;
    held_.reset();
    pipe_ = nullptr; // the session's again
    if (handshake_done_)
        emit(info_->monitor, event_type::disconnected, info_->endpoint, why, detail);
    else if (why)
        emit(info_->monitor, event_type::handshake_failed, info_->endpoint, why, detail);
    session_->connection_down(*this, why, std::move(detail));
    reactor_.retire(this);
}

} // namespace volley::detail
