// SPDX-License-Identifier: MPL-2.0
// The connection driver's life: start, the handshake, heartbeats, linger and
// the half-close, closing. Input and output are in driver_input.ipp and
// driver_output.ipp. See driver.hpp; included by driver_impl.hpp only.

namespace volley::detail {

template <class Wire>
driver<Wire>::driver(reactor& r, std::shared_ptr<session> s, Wire&& w)
    : reactor_(r), session_(std::move(s)), info_(session_->info()), wire_(std::move(w)),
      protocol_(info_->type,
                zmtp::make_null_mechanism(info_->type,
                                          info_->type == socket_type::req || info_->type == socket_type::dealer ||
                                                  info_->type == socket_type::router
                                              ? &info_->options.routing_id
                                              : nullptr,
                                          !session_->connect_side() && session_->admits_by_routing_id())) {
    wire_.set_limits(info_->options.maxmsgsize, info_->options.input_budget);
    wire_.set_handshake(true); // until READY: no frame larger than the handshake needs
}

template <class Wire>
driver<Wire>::~driver() = default;

template <class Wire>
void driver<Wire>::start() noexcept {
    std::lock_guard lock(io_lock_);
    session_->connection_started(*this);
    set_events(true, false);
    if (state_ == state::closed) return; // the reactor refused to watch it: reported, and retired
    last_received_ = clock::now();
    try {
        const auto ivl = info_->options.handshake_ivl;
        if (ivl.count() > 0) {
            arm_timer(handshake_timer_, "handshake", clock::now() + ivl, [this, ivl] {
                std::lock_guard lock(io_lock_);
                handshake_timer_ = {};
                if (!handshake_done_)
                    fail(errc::timed_out, "ZMTP handshake not completed within " + driver_detail::ms_text(ivl));
            });
        }
        wire_.start(protocol_.mechanism_name(), protocol_.as_server());
    } catch (const std::bad_alloc&) {
        fail(errc::protocol_error, "out of memory starting the connection");
        return;
    }
    flush();
}

template <class Wire>
void driver<Wire>::on_io(std::uint32_t events) noexcept {
    std::lock_guard lock(io_lock_);
    if (state_ == state::closed) return;
    if ((events & EPOLLOUT) != 0) {
        if (!flush()) return;
        if (wire_.empty()) pump_output();
    }
    if (state_ == state::closed) return;
    if (in_enabled_ && (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0) {
        if (state_ == state::half_closed)
            read_to_end();
        else
            read_input();
    }
}

template <class Wire>
void driver<Wire>::pipe_readable() noexcept {
    // The reactor yielded once before this batch of pipe events (reactor.cpp).
    std::lock_guard lock(io_lock_);
    if (state_ != state::active && state_ != state::lingering) return;
    output_parked_ = false;
    pump_output();
}

template <class Wire>
void driver<Wire>::pipe_writable() noexcept {
    std::lock_guard lock(io_lock_);
    if (state_ != state::closed) resume_input();
}

template <class Wire>
void driver<Wire>::drain(clock::time_point deadline) noexcept {
    std::lock_guard lock(io_lock_);
    linger(deadline);
}

// ---------------------------------------------------------------- handshake

template <class Wire>
bool driver<Wire>::on_greeting() noexcept {
    std::vector<message> out;
    try {
        if (auto reason = protocol_.check_greeting(wire_.peer_greeting()); !reason.empty()) {
            fail(errc::protocol_error, std::move(reason));
            return false;
        }
        state_ = state::handshake;
        std::string reason, detail;
        if (const errc refused = session_->admit_any(reason, detail); refused != errc{}) {
            refuse(refused, reason, detail); // in place of our READY
            return false;
        }
        protocol_.start(out);
    } catch (const std::bad_alloc&) {
        fail(errc::protocol_error, "out of memory in the handshake");
        return false;
    }
    return send_commands(out);
}

template <class Wire>
bool driver<Wire>::send_commands(std::vector<message>& out) noexcept {
    if (out.empty()) return true;
    try {
        for (auto& m : out) wire_.add(std::move(m), true);
    } catch (const std::bad_alloc&) {
        fail(errc::protocol_error, "out of memory writing the handshake");
        return false;
    }
    return flush();
}

template <class Wire>
bool driver<Wire>::handle_frame(frame& f) noexcept {
    if (state_ == state::handshake) {
        std::vector<message> out;
        peer_properties peer;
        errc code{};
        std::string reason;
        const auto step = protocol_.handshake_frame(f.body, f.command, out, peer, code, reason);
        if (step == zmtp::protocol::step::fail) {
            fail(code, std::move(reason));
            return false;
        }
        if (step == zmtp::protocol::step::more) return send_commands(out);
        std::string detail; // done: `out` may hold our answer, which waits for the admission
        if (const errc refused = session_->admit(peer, reason, detail); refused != errc{}) {
            refuse(refused, reason, detail); // in place of our answer
            return false;
        }
        if (!send_commands(out)) return false;
        on_established(std::move(peer));
        return state_ != state::closed && !failing_;
    }
    if (f.command) {
        bool as_data = false;
        if (!handle_command(f, &as_data)) return false;
        if (!as_data) return state_ < state::lingering;
    }
    if (!deliver(f)) {
        held_ = std::move(f);
        return false;
    }
    return true;
}

template <class Wire>
void driver<Wire>::refuse(errc why, const std::string& reason, const std::string& detail) noexcept {
    // Tell the peer why, if it still listens (libzmq may have hung up already): a failed
    // write must not hide the reason we refuse it.
    try {
        if (!reason.empty()) {
            wire_.add(zmtp::make_error(reason), true);
            wire_.write_once();
        }
    } catch (const std::bad_alloc&) {
    }
    fail(why, detail.empty() ? "the peer was refused" : detail);
}

template <class Wire>
void driver<Wire>::on_established(peer_properties peer) noexcept {
    clock::time_point drain_by = clock::time_point::max();
    bool reconnected = false;
    std::shared_ptr<driver> self;
    try {
        self = this->shared_from_this();
    } catch (const std::bad_weak_ptr&) {
    }
    pipe_ = session_->connection_up(*this, std::move(peer), self, drain_by, reconnected);
    // A subscriber's kept pipe may still hold subscriptions meant for the lost connection; the
    // socket resends them all behind a reset marker, and those before it must not go.
    if (reconnected && (info_->type == socket_type::sub || info_->type == socket_type::xsub))
        protocol_.expect_reset();
    if (pipe_ == nullptr) {
        fail(errc::protocol_error, "the socket cannot take the connection (closed, or out of memory)");
        return;
    }
    handshake_done_ = true;
    wire_.set_handshake(false);
    state_ = state::active;
    reactor_.cancel_timer(handshake_timer_);
    emit(info_->monitor, event_type::handshake_succeeded, info_->endpoint);
    const auto ivl = info_->options.heartbeat_ivl;
    if (ivl.count() > 0 && protocol_.peer_has_commands())
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

template <class Wire>
void driver<Wire>::send_ping() noexcept {
    heartbeat_timer_ = {};
    if (state_ != state::active) return;
    const auto& o = info_->options;
    try {
        if (wire_.written() >= ping_end_ && // the last PING left: the peer reads (see pong_end_)
            add_command(zmtp::make_ping(static_cast<std::uint16_t>(o.heartbeat_ttl.count() / 100), {})))
            ping_end_ = wire_.end();
    } catch (const std::bad_alloc&) {
    }
    ping_sent_ = clock::now();
    if (!heartbeat_timeout_timer_) {
        const auto timeout = o.heartbeat_timeout.count() > 0 ? o.heartbeat_timeout : o.heartbeat_ivl;
        const auto sent = ping_sent_;
        arm_timer(heartbeat_timeout_timer_, "heartbeat timeout", sent + timeout, [this, sent, timeout] {
            std::lock_guard lock(io_lock_);
            heartbeat_timeout_timer_ = {};
            read_below_mark(); // bytes of a large body the peer is still sending count as life
            if (state_ != state::closed && !failing_ && last_received_ < sent && !silence_is_ours())
                fail(errc::timed_out,
                     "heartbeat: nothing from the peer within " + driver_detail::ms_text(timeout) + " of a PING");
        });
    }
    if (!flush()) return;
    arm_timer(heartbeat_timer_, "heartbeat", ping_sent_ + o.heartbeat_ivl, [this] {
        std::lock_guard lock(io_lock_);
        send_ping();
    });
}

template <class Wire>
bool driver<Wire>::silence_is_ours() const noexcept {
    // We did not read: the socket's pipe is full (input paused), or the socket's thread
    // holds a frame for it, or bytes wait in the kernel, where the peer's PONG may sit
    // behind them. A slow consumer, or a socket thread the scheduler kept off its CPU,
    // must not cost the connection (and with it what the kernel holds for us).
    return input_paused_ || held_ || wire_.unread_input();
}

template <class Wire>
void driver<Wire>::arm_ttl(std::chrono::milliseconds ttl) noexcept {
    peer_ttl_ = ttl;
    if (!on_reactor()) { // timers live on the reactor; one request on its way is enough
        if (ttl_posted_ || ttl_timer_) return;
        ttl_posted_ = reactor_.post([self = this->shared_from_this()] {
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
        read_below_mark();
        if (state_ == state::closed || failing_) return;
        if (silence_is_ours()) last_received_ = clock::now();
        if (clock::now() - last_received_ >= peer_ttl_) {
            fail(errc::timed_out,
                 "heartbeat: nothing from the peer within its TTL of " + driver_detail::ms_text(peer_ttl_));
            return;
        }
        arm_ttl(peer_ttl_);
    });
}

// ---------------------------------------------------------------- linger and the end

template <class Wire>
void driver<Wire>::linger(clock::time_point deadline) noexcept {
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

template <class Wire>
void driver<Wire>::arm_linger_timer(clock::time_point deadline) noexcept {
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

template <class Wire>
void driver<Wire>::end_stream() noexcept {
    if (!wire_.end_output()) { // the peer is gone already
        close({}, "closed by the socket");
        return;
    }
    state_ = state::half_closed;
    app_input_ = false;
    set_events(true, false);
    if (state_ == state::half_closed) read_to_end(); // the peer may have closed already
}

template <class Wire>
void driver<Wire>::read_to_end() noexcept {
    int err = 0;
    switch (wire_.discard_input(err)) {
    case Wire::drained::more_later: return;
    case Wire::drained::ended: close({}, "closed by the socket"); return;
    case Wire::drained::failed:
        close(driver_detail::system_error_code(err),
              std::string("closed by the socket; then read failed: ") + std::strerror(err));
        return;
    }
}

template <class Wire>
void driver<Wire>::set_events(bool in, bool out) noexcept {
    if (in == in_enabled_ && out == out_enabled_) return;
    in_enabled_ = in;
    out_enabled_ = out;
    if (const std::error_code refused = wire_.watch(*this, in, out))
        close(refused, "epoll_ctl failed: " + refused.message());
}

template <class Wire>
void driver<Wire>::fail(errc code, std::string detail) noexcept {
    close(make_error_code(code), std::move(detail));
}

template <class Wire>
void driver<Wire>::close(std::error_code why, std::string detail) noexcept {
    if (state_ == state::closed || failing_) return;
    if (on_reactor()) {
        close_now(why, std::move(detail));
        return;
    }
    // The socket's thread found the connection broken: stop moving bytes, let the reactor close.
    failing_ = reactor_.post([self = this->shared_from_this(), why, detail = std::move(detail)]() mutable {
        std::lock_guard lock(self->io_lock_);
        self->failing_ = false;
        self->close_now(why, std::move(detail));
    }); // not posted (out of memory): the next call that finds it broken tries again
}

template <class Wire>
void driver<Wire>::close_now(std::error_code why, std::string detail) noexcept {
    if (state_ == state::closed) return;
    state_ = state::closed;
    for (auto* t : {&handshake_timer_, &heartbeat_timer_, &heartbeat_timeout_timer_, &ttl_timer_, &linger_timer_,
                    &watchdog_timer_})
        reactor_.cancel_timer(*t);
    if (batch_timer_) batch_timer_->close();
    batch_open_ = false;
    wire_.close();
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
