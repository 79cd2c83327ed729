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

connector::connector(reactor& r, const stream_family& family, resolved_address peer,
                     std::shared_ptr<const session_info> info, pipe* pipe_end)
    : reactor_(r), family_(family), peer_(peer), info_(std::move(info)), pipe_(pipe_end),
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
    fd_ = ::socket(peer_.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        retry({errno, std::system_category()}, std::string("socket() failed: ") + std::strerror(errno));
        return;
    }
    family_.tune(fd_, info_->options);
    if (::connect(fd_, peer_.get(), peer_.length) == 0) {
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
    try {
        auto e = std::make_shared<engine>(reactor_, fd, info_, pipe_, *this);
        engine_ = e.get();
        reactor_.adopt(std::move(e));
        engine_->start();
        if (stopped_) engine_->stop(give_up_); // connected only to deliver what is queued
    } catch (const std::exception& ex) {
        engine_ = nullptr;
        ::close(fd);
        retry(make_error_code(errc::protocol_error), std::string("cannot serve the connection: ") + ex.what());
    }
}

void connector::engine_closed(engine&, bool established, std::error_code why) noexcept {
    engine_ = nullptr;
    pipe_->handler = this; // the pipe end is ours again
    if (established) next_ivl_ = info_->options.reconnect_ivl; // a working connection resets the back-off
    if (stopped_ || pipe_->peer_closed()) {
        if (pipe_->peer_closed()) give_up_ = std::min(give_up_, pipe_->peer_linger_deadline());
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
    if (base.count() < 0) { // reconnect_ivl = infinite: no reconnection
        emit(info_->monitor, event_type::disconnected, info_->endpoint, why, detail + "; not reconnecting");
        return;
    }
    // Jitter: up to a quarter of the interval on top, so clients do not retry in lockstep.
    const auto ivl = next_ivl_;
    const auto extra = std::chrono::milliseconds(ivl.count() >= 4 ? jitter_() % (ivl.count() / 4 + 1) : 0);
    const auto wait = ivl + extra;
    emit(info_->monitor, event_type::connect_retried, info_->endpoint, why, std::move(detail), wait);
    const auto max = info_->options.reconnect_ivl_max;
    if (max > base) next_ivl_ = std::min(max, ivl * 2);
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
        give_up_ = std::min(give_up_, p.peer_linger_deadline());
        if (!draining()) finish();
    }
    // read_activated: the next connection's engine drains the pipe; write_activated: nothing to do.
}

void connector::stop(bool context_end) noexcept {
    if (stopped_) return;
    stopped_ = true;
    if (engine_ != nullptr) { // its engine_closed() finishes us
        if (context_end) engine_->stop(deadline_after(info_->options.linger));
        return;
    }
    // Messages queued for a connection not up yet may still go out within the linger
    // period: the current attempt, or the next retry, carries on until then. At context end
    // the socket's linger bounds it; on disconnect or close the socket closes the pipe next,
    // with its linger, and that event decides.
    if (context_end)
        give_up_ = std::min(give_up_, deadline_after(info_->options.linger));
    else if (pipe_->peer_closed())
        give_up_ = std::min(give_up_, pipe_->peer_linger_deadline());
    else
        return;
    if (!draining()) finish();
}

bool connector::draining() noexcept {
    return pipe_ != nullptr && pipe_->readable() && clock::now() < give_up_;
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
    abandon_attempt();
    if (pipe_ != nullptr) {
        pipe_->handler = nullptr;
        pipe_->close(clock::time_point::max()); // what arrived stays readable for the socket
        pipe_ = nullptr;
    }
    reactor_.retire(this);
}

} // namespace volley::detail
