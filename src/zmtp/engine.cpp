// SPDX-License-Identifier: MPL-2.0
// The ZMTP connection engine. See engine.hpp; wire format in wire.hpp.
#include "zmtp/engine.hpp"

#include "fence.hpp"
#include "monitor_queue.hpp"
#include "peer_text.hpp"
#include "pipe.hpp"
#include "registry.hpp"
#include "transport.hpp"
#include "zmtp/commands.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace volley::detail {
namespace {

// Stop pulling messages from the pipe once this much is waiting to be written.
constexpr std::size_t batch_bytes = 256 * 1024;
// Reads per readiness event before other connections get a turn (epoll is level-triggered).
constexpr int reads_per_turn = 16;
// Messages the socket writes closer together than this are a burst: the reactor sends them,
// many per writev, instead of the socket's thread one syscall each.
constexpr auto burst_gap = std::chrono::microseconds(2);
// A message this large always goes to the reactor: sending it takes long enough that the
// socket's thread had better produce the next one meanwhile, and a hand-off costs little
// beside its transmission.
constexpr std::size_t reactor_message_bytes = 64 * 1024;
const std::uint64_t burst_gap_ticks = fast_clock::ticks(burst_gap);
// A socket polling an idle connection backs off between reads, from 0.25 us doubling to
// 16 us, so that spinning for input does not turn into a storm of empty recv() calls.
const std::uint64_t poll_backoff_min = fast_clock::ticks(std::chrono::nanoseconds(250));
const std::uint64_t poll_backoff_max = fast_clock::ticks(std::chrono::microseconds(16));

// Large transfers move in pieces of this size: each write at most, and the receiver's
// low-water mark at most. One sendmsg() of a whole 1 MiB body hands the peer nothing until
// the kernel pushes, and a receiver that waits for the whole body copies nothing until
// then: the two copies run one after the other. In pieces they overlap. tcp 1 MiB, medians
// of 7: latency 218 us one-way against 361 us whole (libzmq 230 us); throughput 4.63 k
// msg/s against 4.66 k (libzmq 4.13 k); 4 MiB 904 msg/s against 751. 256 KiB pieces cost
// 1 MiB throughput (4.01 k).
constexpr std::size_t transfer_piece_bytes = 512 * 1024;

// The reason an ERROR gives, quoted; it is meant for people, so more of it than of other
// peer values.
std::string error_reason(std::span<const std::byte> error_data) {
    const auto reason = zmtp::parse_error(error_data);
    return reason ? quote_peer(*reason, 120) : "(malformed ERROR)";
}

// A socket that took over input and has not polled for this long gives it back.
constexpr auto input_watchdog = std::chrono::milliseconds(5);

std::error_code system_error_code(int err) noexcept {
    return {err, std::system_category()};
}

std::string ms_text(std::chrono::milliseconds d) {
    return std::to_string(d.count()) + " ms";
}

} // namespace

// Holds io_mutex_ for a reactor-side entry; on release, serves flushes the socket asked for
// while the lock was taken.
class engine_lock {
public:
    explicit engine_lock(engine& e) : e_(e) { e_.io_mutex_.lock(); }
    ~engine_lock() { e_.unlock_io(); }
    engine_lock(const engine_lock&) = delete;
    engine_lock& operator=(const engine_lock&) = delete;

private:
    engine& e_;
};

engine::engine(reactor& r, int fd, std::shared_ptr<const session_info> info, pipe* borrowed, engine_owner& owner)
    : reactor_(r), fd_(fd), info_(std::move(info)), owner_(owner), pipe_(borrowed), borrowed_(borrowed != nullptr) {
    decoder_.set_limits(info_->options.maxmsgsize, info_->options.input_budget);
    decoder_.set_handshake(true); // until READY: no frame larger than the handshake needs
}

engine::~engine() {
    if (fd_ >= 0) ::close(fd_);
}

void engine::start() noexcept {
    engine_lock lock(*this);
    set_events(true, false);
    if (state_ == state::closed) return; // epoll refused the descriptor: reported, and retired
    last_received_ = clock::now();
    if (pipe_ != nullptr) pipe_->handler = this;
    try {
        const auto ivl = info_->options.handshake_ivl;
        if (ivl.count() > 0) {
            handshake_timer_ = reactor_.add_timer(clock::now() + ivl, [this, ivl] {
                engine_lock lock(*this);
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

void engine::stop(clock::time_point deadline) noexcept {
    engine_lock lock(*this);
    if (state_ == state::closed) return;
    linger(deadline);
}

void engine::on_io(std::uint32_t events) noexcept {
    engine_lock lock(*this);
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

void engine::on_pipe_event(event_kind kind, pipe& p) noexcept {
    if (kind == event_kind::read_activated) yield_to_producer(); // before taking the lock
    engine_lock lock(*this);
    if (state_ == state::closed || &p != pipe_) return;
    switch (kind) {
    case event_kind::read_activated:
        output_parked_ = false;
        update_draining();
        pump_output();
        break;
    case event_kind::write_activated: resume_input(); break;
    case event_kind::peer_closed: linger(p.peer_linger_deadline()); break;
    case event_kind::attach: break;
    }
}

// ---------------------------------------------------------------- input

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
    if (f.command) return handle_command(f.body);
    if (!deliver(f)) {
        held_ = std::move(f);
        return false;
    }
    return true;
}

bool engine::handle_ready(std::span<const std::byte> data) noexcept {
    zmtp::properties props;
    try {
        if (auto reason = zmtp::parse_properties(data, props); !reason.empty()) {
            fail(errc::protocol_error, reason);
            return false;
        }
    } catch (const std::bad_alloc&) {
        fail(errc::protocol_error, "out of memory reading READY");
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
    if (!compatible(info_->type, *peer_type)) {
        // Tell the peer why, if it still listens (libzmq may have hung up already): a failed
        // write must not hide the reason we refuse it.
        try {
            encoder_.add(zmtp::make_error("Invalid socket type"), true);
            iovec iov[8];
            msghdr mh{};
            mh.msg_iov = iov;
            mh.msg_iovlen = static_cast<std::size_t>(encoder_.gather(iov, 8));
            [[maybe_unused]] const ssize_t n = ::sendmsg(fd_, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        } catch (const std::bad_alloc&) {
        }
        fail(errc::incompatible_socket_type, "a " + std::string(to_string(info_->type)) + " socket cannot talk to a " +
                                                 *type_name + " peer");
        return false;
    }
    on_established();
    return state_ != state::closed;
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
            encoder_.add(zmtp::make_pong(p->context), true);
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

// ---------------------------------------------------------------- output

bool engine::fill_encoder() noexcept {
    // Whole messages only (all their frames are in the pipe already): a PING or PONG added
    // after this must not land between the frames of one message.
    for (bool mid_message = false; mid_message || encoder_.pending() < batch_bytes;) {
        message m;
        if (!pipe_->read(m)) return true;
        mid_message = m.more();
        try {
            encoder_.add(std::move(m), false);
        } catch (const std::bad_alloc&) {
            fail(errc::protocol_error, "out of memory encoding a message");
            return false;
        }
    }
    return true;
}

void engine::pump_output() noexcept {
    while ((state_ == state::active || state_ == state::lingering) && !failing_) {
        if (!fill_encoder()) return;
        if (encoder_.empty()) {
            if (state_ == state::lingering) {
                end_stream();
                return;
            }
            if (app_output_) return; // the socket's thread sends what it writes
            // Nothing to send: ask the socket to wake us when it writes.
            pipe_->park_reader();
            heavy_fence();
            if (pipe_->readable() && pipe_->unpark_reader()) continue;
            output_parked_ = true;
            update_draining();
            return;
        }
        if (!flush() || !encoder_.empty()) return; // closed, or EPOLLOUT will bring us back
    }
}

void engine::yield_to_producer() noexcept {
    // Woken to send what the socket writes (reactor output, a burst): if the socket's
    // thread shares our CPU it is still producing, and yielding lets it queue a bigger
    // batch for one writev; on a CPU of our own this returns at once. Either way the
    // burst's last messages go as soon as the socket stops.
    std::this_thread::yield();
}

bool engine::flush() noexcept {
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

// ---------------------------------------------------------------- life

void engine::on_established() noexcept {
    handshake_done_ = true;
    decoder_.set_handshake(false);
    state_ = state::active;
    update_draining();
    reactor_.cancel_timer(handshake_timer_);
    if (pipe_ == nullptr) { // accepted: the socket gets its pipe now, with a known, compatible peer
        const auto& o = info_->options;
        pipe_pair* pp;
        try {
            pp = pipe_pair::create(static_cast<std::uint64_t>(o.sndhwm), static_cast<std::uint64_t>(o.rcvhwm));
        } catch (const std::bad_alloc&) {
            fail(errc::protocol_error, "out of memory creating the pipe");
            return;
        }
        pipe_ = &pp->end(1);
        pipe_->set_owner(reactor_.mailbox());
        pipe_->handler = this;
        volley::transport::attach_pipe(info_->socket_mailbox, pp->end(0), info_->endpoint_id);
    }
    emit(info_->monitor, event_type::handshake_succeeded, info_->endpoint);
    const auto ivl = info_->options.heartbeat_ivl;
    if (ivl.count() > 0 && peer_minor_ >= 1)
        heartbeat_timer_ = reactor_.add_timer(clock::now() + ivl, [this] {
            engine_lock lock(*this);
            send_ping();
        });
    pipe_->set_driver(shared_from_this());
    if (pipe_->peer_closed() || drain_deadline_ != clock::time_point::max()) {
        linger(pipe_->peer_closed() ? std::min(pipe_->peer_linger_deadline(), drain_deadline_) : drain_deadline_);
        return;
    }
    pump_output(); // what the socket queued before the connection was up
}

void engine::send_ping() noexcept {
    heartbeat_timer_ = {};
    if (state_ != state::active) return;
    const auto& o = info_->options;
    try {
        if (encoder_.written() >= ping_end_) { // the last PING left: the peer reads (see pong_end_)
            encoder_.add(zmtp::make_ping(static_cast<std::uint16_t>(o.heartbeat_ttl.count() / 100), {}), true);
            ping_end_ = encoder_.end();
        }
    } catch (const std::bad_alloc&) {
    }
    ping_sent_ = clock::now();
    if (!heartbeat_timeout_timer_) {
        const auto timeout = o.heartbeat_timeout.count() > 0 ? o.heartbeat_timeout : o.heartbeat_ivl;
        heartbeat_timeout_timer_ = reactor_.add_timer(ping_sent_ + timeout, [this, sent = ping_sent_, timeout] {
            engine_lock lock(*this);
            heartbeat_timeout_timer_ = {};
            read_below_lowat(); // bytes of a large body the peer is still sending count as life
            // While the socket's pipe is full we do not read, so the peer's PONG may sit
            // unread: silence is ours then, and a slow consumer must not cost the connection.
            if (state_ != state::closed && !failing_ && !input_paused_ && last_received_ < sent)
                fail(errc::timed_out, "heartbeat: nothing from the peer within " + ms_text(timeout) + " of a PING");
        });
    }
    if (!flush()) return;
    heartbeat_timer_ = reactor_.add_timer(ping_sent_ + o.heartbeat_ivl, [this] {
        engine_lock lock(*this);
        send_ping();
    });
}

void engine::arm_ttl(std::chrono::milliseconds ttl) noexcept {
    peer_ttl_ = ttl;
    if (!on_reactor()) { // timers live on the reactor; one request on its way is enough
        if (ttl_posted_ || ttl_timer_) return;
        try {
            reactor_.post([self = shared_from_this()] {
                engine_lock lock(*self);
                self->ttl_posted_ = false;
                if (self->state_ != state::closed) self->arm_ttl(self->peer_ttl_);
            });
            ttl_posted_ = true;
        } catch (...) {
        }
        return;
    }
    if (ttl_timer_) return;
    ttl_timer_ = reactor_.add_timer(last_received_ + ttl, [this] {
        engine_lock lock(*this);
        ttl_timer_ = {};
        read_below_lowat();
        if (state_ == state::closed || failing_) return;
        if (input_paused_) last_received_ = clock::now(); // silence is ours: see send_ping()
        if (clock::now() - last_received_ >= peer_ttl_) {
            fail(errc::timed_out, "heartbeat: nothing from the peer within its TTL of " + ms_text(peer_ttl_));
            return;
        }
        arm_ttl(peer_ttl_);
    });
}

void engine::linger(clock::time_point deadline) noexcept {
    if (state_ >= state::lingering) return;
    if (!handshake_done_) {
        // Stopped, or the socket closed, during the handshake. A connection made for messages
        // already queued finishes it and then delivers them within the deadline (see
        // on_established); any other one closes now.
        if (borrowed_ && pipe_->readable() && clock::now() < deadline) {
            drain_deadline_ = std::min(drain_deadline_, deadline);
            arm_linger_timer(drain_deadline_);
            return;
        }
        close({}, "closed during the handshake");
        return;
    }
    state_ = state::lingering;
    update_draining();
    held_.reset(); // the socket will not read any more
    set_events(false, out_enabled_);
    arm_linger_timer(deadline);
    pump_output();
}

void engine::arm_linger_timer(clock::time_point deadline) noexcept {
    reactor_.cancel_timer(linger_timer_);
    if (deadline == clock::time_point::max()) return;
    linger_timer_ = reactor_.add_timer(deadline, [this] {
        engine_lock lock(*this);
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
    update_draining();
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
    try {
        if (!in && !out) {
            if (registered_) reactor_.remove(fd_);
            registered_ = false;
        } else if (!registered_) {
            reactor_.add(fd_, (in ? EPOLLIN : 0u) | (out ? EPOLLOUT : 0u), this);
            registered_ = true;
        } else {
            reactor_.modify(fd_, (in ? EPOLLIN : 0u) | (out ? EPOLLOUT : 0u), this);
        }
    } catch (const std::system_error& e) {
        in_enabled_ = in;
        out_enabled_ = out;
        close(e.code(), std::string("epoll_ctl failed: ") + e.what());
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
    failing_ = true;
    try {
        reactor_.post([self = shared_from_this(), why, detail = std::move(detail)]() mutable {
            engine_lock lock(*self);
            self->failing_ = false;
            self->close_now(why, std::move(detail));
        });
    } catch (...) {
    }
}

void engine::close_now(std::error_code why, std::string detail) noexcept {
    if (state_ == state::closed) return;
    state_ = state::closed;
    update_draining();
    for (auto* t : {&handshake_timer_, &heartbeat_timer_, &heartbeat_timeout_timer_, &ttl_timer_, &linger_timer_,
                    &watchdog_timer_})
        reactor_.cancel_timer(*t);
    if (registered_) reactor_.remove(fd_);
    registered_ = false;
    ::close(fd_);
    fd_ = -1;
    held_.reset();
    if (pipe_ != nullptr && handshake_done_) pipe_->set_driver(nullptr);
    // The connector's pipe outlives this connection: drop the frames of a message it did
    // not finish, or the next connection's message would be glued onto them. (An accepted
    // connection's pipe close below does the same.)
    if (pipe_ != nullptr && borrowed_) pipe_->rollback();
    if (pipe_ != nullptr && !borrowed_) {
        pipe_->handler = nullptr;
        pipe_->close(clock::time_point::max()); // what was received stays readable
        pipe_ = nullptr;
    }
    if (handshake_done_)
        emit(info_->monitor, event_type::disconnected, info_->endpoint, why, detail);
    else if (why)
        emit(info_->monitor, event_type::handshake_failed, info_->endpoint, why, detail);
    owner_.engine_closed(*this, handshake_done_, why);
    reactor_.retire(this);
}

// ---------------------------------------------------------------- the socket's thread

void engine::unlock_io() noexcept {
    for (;;) {
        io_mutex_.unlock();
        // A flush asked for while we held the lock is ours to serve, unless someone else
        // has taken the lock since (they will see the request). The fence pairs with the
        // one in after_write(): either it takes the lock, or we see its request.
        full_fence();
        if (!flush_requested_.load(std::memory_order_relaxed) || !io_mutex_.try_lock()) return;
        if (flush_requested_.exchange(false, std::memory_order_acq_rel) &&
            (state_ == state::active || state_ == state::lingering) && !failing_) {
            if (on_reactor())
                pump_output();
            else
                app_flush();
        }
    }
}

void engine::after_write(std::size_t last_frame) noexcept {
    // A burst: this write comes soon after the previous one returned. Large messages are
    // treated as a burst whatever the gap (see reactor_message_bytes).
    const std::uint64_t now = fast_clock::now();
    const bool burst = now - last_write_ticks_ < burst_gap_ticks || last_frame >= reactor_message_bytes;
    last_write_ticks_ = now;
    // The reactor is draining: it sends this with its next writev (the pipe guarantees it
    // sees the message, or is told). Nothing to do, not even the lock.
    if (reactor_draining_.load(std::memory_order_relaxed)) return;
    flush_requested_.store(true, std::memory_order_relaxed);
    full_fence(); // pairs with unlock_io(): the holder sees the request, or we get the lock
    if (!io_mutex_.try_lock()) return; // the holder serves the request when it lets go
    flush_requested_.store(false, std::memory_order_relaxed);
    if (state_ == state::active && !failing_ && encoder_.empty()) {
        if (burst) {
            if (app_output_) { // hand the burst to the reactor, which batches it
                app_output_ = false;
                update_draining();
                try {
                    reactor_.post([self = shared_from_this()] {
                        self->yield_to_producer();
                        engine_lock lock(*self);
                        self->pump_output();
                    });
                } catch (...) {
                    app_output_ = true;
                    update_draining();
                }
            }
            // In reactor output the reactor is draining, or was told by the pipe.
        } else {
            if (!app_output_) {
                app_output_ = true;
                if (output_parked_) { // we send from now on: writes need not wake the reactor
                    output_parked_ = false;
                    pipe_->unpark_reader(); // if the socket already posted, the event finds an empty pipe
                }
                update_draining();
            }
            app_flush();
        }
    }
    // With data still in the encoder the reactor is writing (EPOLLOUT); it takes what follows.
    unlock_io();
    last_write_ticks_ = fast_clock::now();
}

void engine::app_flush() noexcept {
    while ((state_ == state::active || state_ == state::lingering) && !failing_) {
        if (!fill_encoder()) return;
        if (encoder_.empty() || !flush() || !encoder_.empty()) return;
    }
}

bool engine::poll_input() noexcept {
    const std::uint64_t now = fast_clock::now();
    if (now < next_poll_ticks_) return false; // backing off an idle connection
    if (!io_mutex_.try_lock()) return false;   // the reactor holds it: it delivers what arrives
    bool got = false;
    if (state_ == state::active && !failing_) {
        if (!app_input_) take_input(true);
        last_app_poll_ = clock::now();
        got = app_read();
    }
    unlock_io();
    // Nothing came: wait longer before the next read. Something came: poll again at once.
    poll_backoff_ = got ? 0 : std::clamp(poll_backoff_ * 2, poll_backoff_min, poll_backoff_max);
    next_poll_ticks_ = now + poll_backoff_;
    return got;
}

bool engine::app_read() noexcept {
    bool delivered = false;
    for (int reads = 0; state_ == state::active && !failing_;) {
        if (held_) {
            if (!pipe_->write(held_->body)) return true; // the socket has plenty to read
            held_.reset();
            delivered = true;
        }
        zmtp::decoder::frame f;
        const auto st = decoder_.next(f);
        if (st == zmtp::decoder::status::frame) {
            if (f.command) {
                if (!handle_command(f.body)) return delivered;
                continue;
            }
            if (!pipe_->write(f.body)) {
                held_ = std::move(f);
                return true;
            }
            delivered = true;
            continue;
        }
        if (st == zmtp::decoder::status::error) {
            fail(decoder_.error_code(), decoder_.error_reason());
            return delivered;
        }
        if (delivered || reads++ == 2) return delivered; // let the socket take what came
        if (!receive()) return delivered;
    }
    return delivered;
}

void engine::take_input(bool app) noexcept {
    if (app) { // the socket reads from now on: the reactor stops watching input
        app_input_ = true;
        input_paused_ = false; // what the reactor held back, the socket delivers
        set_events(false, out_enabled_);
        if (watchdog_timer_) return; // still armed from an earlier turn: no need to wake the reactor
        try {
            reactor_.post([self = shared_from_this()] {
                engine_lock lock(*self);
                self->arm_watchdog();
            });
        } catch (...) {
        }
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
            try {
                reactor_.post([self = shared_from_this()] {
                    engine_lock lock(*self);
                    if (!self->app_input_) self->read_input();
                });
            } catch (...) {
            }
        }
    }
}

void engine::arm_watchdog() noexcept {
    if (watchdog_timer_ || state_ == state::closed) return;
    watchdog_timer_ = reactor_.add_timer(clock::now() + input_watchdog, [this] {
        engine_lock lock(*this);
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
    io_mutex_.lock();
    if (app_input_) take_input(false);
    unlock_io();
}

} // namespace volley::detail
