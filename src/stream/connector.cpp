// SPDX-License-Identifier: MPL-2.0
// Connecting and reconnecting stream endpoints. See connector.hpp.
#include "stream/connector.hpp"

#include "monitor_queue.hpp"
#include "zmtp/engine.hpp"

#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <unistd.h>

namespace volley::detail {

connector::connector(reactor& r, const stream_family& family, std::string address,
                     std::optional<resolved_address> peer, std::shared_ptr<const endpoint_info> info)
    : reactor_(r), family_(family), address_(std::move(address)), peer_(peer), info_(std::move(info)),
      session_(make_session(r, info_, *this, true)), next_ivl_(info_->options.reconnect_ivl),
      jitter_(static_cast<unsigned>(clock::now().time_since_epoch().count())) {}

connector::~connector() {
    if (fd_ >= 0) ::close(fd_);
}

void connector::start() {
    reactor_.adopt(session_);
    attempt();
}

void connector::attempt() noexcept {
    if (finished_) return;
    if (!session_->wants_connection()) {
        session_->end();
        return;
    }
    if (!peer_) {
        resolved_address a;
        std::string why;
        if (const auto ec = family_.resolve(address_, false, info_->options, a, why)) {
            retry(ec, why);
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
    prepare_connection(family_, fd_, info_->options);
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
    if (const auto ec = reactor_.add(fd_, EPOLLOUT, this)) {
        abandon_attempt();
        retry(ec, "epoll_ctl add failed: " + ec.message());
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
        e = std::make_shared<engine>(reactor_, fd, session_); // owns fd from here
        reactor_.adopt(e);
    } catch (const std::exception& ex) {
        if (!e) ::close(fd); // else the engine's destructor closes it
        retry(make_error_code(errc::protocol_error), std::string("cannot serve the connection: ") + ex.what());
        return;
    }
    e->start(); // on failure it closes, and the session hears of it
}

void connector::connection_lost(session&, bool established, std::error_code why, std::string detail) noexcept {
    if (established) next_ivl_ = info_->options.reconnect_ivl; // a working connection resets the back-off
    retry(why ? why : make_error_code(errc::connection_refused), "connection lost: " + detail);
}

void connector::retry(std::error_code why, std::string detail) noexcept {
    if (finished_) return;
    if (!session_->wants_connection()) {
        session_->end();
        return;
    }
    const auto base = info_->options.reconnect_ivl;
    if (base.count() < 0) {
        // reconnect_ivl = -1: no second attempt. The endpoint is over: its pipe closes, so
        // the socket stops routing to it (what arrived stays readable), and the monitor
        // hears it once (an established connection's engine reported the disconnect).
        const auto info = info_; // ending the session finishes us
        session_->end(); // first: whoever sees the event finds the pipe already closed
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
    retry_timer_ = reactor_.add_timer(clock::now() + wait, [this] {
        retry_timer_ = {};
        attempt();
    });
    if (!retry_timer_) session_->end(); // out of memory: the endpoint gives up
}

void connector::stop(stop_reason why) noexcept {
    // A connect the socket dropped may still be delivering its queue; the context's end
    // comes to it again and decides that (session::stop).
    if (finished_ || (stopped_ && why == stop_reason::endpoint)) return;
    stopped_ = true;
    session_->stop(why); // decides whether a connection is still wanted
}

void connector::session_ended(session&) noexcept {
    finish();
}

void connector::abandon_attempt() noexcept {
    if (fd_ < 0) return;
    reactor_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
}

void connector::finish() noexcept {
    if (finished_) return;
    finished_ = true;
    reactor_.cancel_timer(retry_timer_);
    abandon_attempt();
    reactor_.retire(this);
}

} // namespace volley::detail
