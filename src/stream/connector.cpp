// SPDX-License-Identifier: MPL-2.0
// Connecting and reconnecting stream endpoints. See connector.hpp.
#include "stream/connector.hpp"

#include "monitor_queue.hpp"
#include "pipe.hpp"

#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <unistd.h>

namespace volley::detail {

connector::connector(reactor& r, const stream_family& family, std::string address,
                     std::optional<resolved_address> peer, std::shared_ptr<const session_info> info, pipe* pipe_end)
    : reactor_(r), family_(family), address_(std::move(address)), peer_(peer), info_(std::move(info)), pipe_(pipe_end),
      next_ivl_(info_->options.reconnect_ivl),
      jitter_(static_cast<unsigned>(clock::now().time_since_epoch().count())) {}

connector::~connector() {
    if (fd_ >= 0) ::close(fd_);
}

void connector::start() {
    pipe_->handler = this;
    attempt();
}

void connector::attempt() noexcept {
    if (stopped_ && !draining()) {
        finish();
        return;
    }
    if (!peer_) {
        resolved_address a;
        if (const auto ec = family_.resolve(address_, false, info_->options, a)) {
            retry(ec, "cannot resolve '" + address_ + "'");
            return;
        }
        peer_ = a;
    }
    const resolved_address peer = *peer_;
    peer_.reset(); // the next attempt resolves again: the name may have moved
    fd_ = ::socket(peer.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        retry({errno, std::system_category()}, std::string("socket() failed: ") + std::strerror(errno));
        return;
    }
    family_.tune(fd_, info_->options);
    if (::connect(fd_, peer.get(), peer.length) == 0) {
        connected();
        return;
    }
    if (errno != EINPROGRESS) {
        const int err = errno;
        abandon_attempt();
        retry({err, std::system_category()}, std::string("connect failed: ") + std::strerror(err));
        return;
    }
    try {
        reactor_.add(fd_, EPOLLOUT, this);
    } catch (const std::system_error& e) {
        abandon_attempt();
        retry(e.code(), e.what());
    }
}

void connector::on_io(std::uint32_t) noexcept {
    if (fd_ < 0) return;
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    reactor_.remove(fd_);
    if (err != 0) {
        abandon_attempt();
        retry({err, std::system_category()}, std::string("connect failed: ") + std::strerror(err));
        return;
    }
    connected();
}

void connector::connected() noexcept {
    const int fd = fd_;
    fd_ = -1;
    emit(info_->monitor, event_type::connected, info_->endpoint);
    std::shared_ptr<engine> e;
    try {
        e = std::make_shared<engine>(reactor_, fd, info_, pipe_, *this); // owns fd from here
        engine_ = e.get();
        reactor_.adopt(e);
        engine_->start(); // on failure it closes, and engine_closed() clears engine_
        if (stopped_ && engine_ != nullptr) engine_->stop(give_up_); // only to deliver what is queued
    } catch (const std::exception& ex) {
        engine_ = nullptr;
        if (!e) ::close(fd); // else the engine's destructor closes it
        retry(make_error_code(errc::protocol_error), std::string("cannot serve the connection: ") + ex.what());
    }
}

void connector::engine_closed(engine&, bool established, std::error_code why) noexcept {
    engine_ = nullptr;
    pipe_->handler = this; // the pipe end is ours again
    if (established) next_ivl_ = info_->options.reconnect_ivl; // a working connection resets the back-off
    if (stopped_ || pipe_->peer_closed()) {
        if (pipe_->peer_closed()) set_give_up(pipe_->peer_linger_deadline());
        // The socket is gone (or the context ends): keep trying only while messages wait.
        if (!draining()) {
            finish();
            return;
        }
    }
    retry(why ? why : make_error_code(errc::connection_refused), "connection lost");
}

void connector::retry(std::error_code why, std::string detail) noexcept {
    if (stopped_ && !draining()) {
        finish();
        return;
    }
    const auto base = info_->options.reconnect_ivl;
    if (base.count() < 0) {
        // reconnect_ivl = -1: no second attempt. The endpoint is over: its pipe closes, so
        // the socket stops routing to it (what arrived stays readable), and the monitor
        // hears it once (an established connection's engine reported the disconnect).
        const auto info = info_; // finish() retires us
        finish(); // first: whoever sees the event finds the pipe already closed
        emit(info->monitor, event_type::closed, info->endpoint, why, detail + "; not reconnecting (reconnect_ivl is -1)");
        return;
    }
    // Exponential back-off from reconnect_ivl (at least 1 ms, so 0 means "at once" without
    // spinning) up to reconnect_ivl_max, with up to a quarter of jitter so that clients do
    // not retry in lockstep; the jittered wait never exceeds reconnect_ivl_max.
    const auto max = info_->options.reconnect_ivl_max;
    const auto ivl = std::max(next_ivl_, std::chrono::milliseconds(1));
    const auto extra = std::chrono::milliseconds(ivl.count() >= 4 ? jitter_() % (ivl.count() / 4 + 1) : 0);
    auto wait = ivl + extra;
    if (max > base) {
        wait = std::min(wait, max);
        next_ivl_ = std::min(max, ivl * 2);
    }
    emit(info_->monitor, event_type::connect_retried, info_->endpoint, why, std::move(detail), wait);
    if (give_up_ != clock::time_point::max()) // never wait past the deadline
        wait = std::min(wait, std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::max(give_up_ - clock::now(), clock::duration::zero())));
    retry_timer_ = reactor_.add_timer(clock::now() + wait, [this] {
        retry_timer_ = {};
        if (clock::now() >= give_up_) {
            finish();
            return;
        }
        attempt();
    });
}

void connector::on_pipe_event(event_kind kind, pipe& p) noexcept {
    if (&p != pipe_ || engine_ != nullptr) return;
    if (kind == event_kind::peer_closed) {
        // The socket closed while we are not connected: what it queued may still go out if
        // a connection comes up within its linger period.
        set_give_up(p.peer_linger_deadline());
        if (!draining()) finish();
    }
    // read_activated: the next connection's engine drains the pipe; write_activated: nothing to do.
}

void connector::stop(bool context_end) noexcept {
    if (stopped_) return;
    stopped_ = true;
    // Messages queued may still go out within the linger period: a live connection
    // flushes them, or the current attempt or the next retry carries on until then. At
    // context end the socket's linger bounds it; on disconnect or close the socket closes
    // the pipe next, with its linger, and that event decides.
    if (context_end)
        set_give_up(deadline_after(info_->options.linger));
    else if (pipe_->peer_closed())
        set_give_up(pipe_->peer_linger_deadline());
    if (engine_ != nullptr) { // its engine_closed() finishes us
        if (context_end) engine_->stop(give_up_);
        return;
    }
    if (!context_end && !pipe_->peer_closed()) return;
    if (!draining()) finish();
}

void connector::set_give_up(clock::time_point deadline) noexcept {
    if (deadline >= give_up_) return;
    give_up_ = deadline;
    reactor_.cancel_timer(give_up_timer_);
    try {
        // A connect in progress or a retry far off must not outlive the deadline.
        give_up_timer_ = reactor_.add_timer(deadline, [this] {
            give_up_timer_ = {};
            if (engine_ == nullptr) finish(); // a live connection has its own linger deadline
        });
    } catch (const std::exception&) {
    }
}

bool connector::draining() noexcept {
    // Something is queued, there is time left, and a connection may still come.
    const bool may_connect = engine_ != nullptr || fd_ >= 0 || info_->options.reconnect_ivl.count() >= 0;
    return pipe_ != nullptr && pipe_->readable() && clock::now() < give_up_ && may_connect;
}

void connector::abandon_attempt() noexcept {
    if (fd_ < 0) return;
    reactor_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
}

void connector::finish() noexcept {
    stopped_ = true;
    reactor_.cancel_timer(retry_timer_);
    reactor_.cancel_timer(give_up_timer_);
    abandon_attempt();
    if (pipe_ != nullptr) {
        pipe_->handler = nullptr;
        pipe_->close(clock::time_point::max()); // what arrived stays readable for the socket
        pipe_ = nullptr;
    }
    reactor_.retire(this);
}

} // namespace volley::detail
