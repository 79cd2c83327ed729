// SPDX-License-Identifier: MPL-2.0
// Reconnecting with back-off, for every transport. See dialer.hpp.
#include "dialer.hpp"

#include "monitor_queue.hpp"

namespace volley::detail {

dialer::dialer(reactor& r, std::shared_ptr<const endpoint_info> info)
    : reactor_(r), info_(std::move(info)), session_(make_session(r, info_, *this, true)),
      backoff_(info_->options.reconnect_ivl, info_->options.reconnect_ivl_max) {}

void dialer::start() {
    reactor_.adopt(session_);
    next_attempt();
}

void dialer::next_attempt() noexcept {
    if (finished_) return;
    if (!session_->wants_connection()) {
        session_->end();
        return;
    }
    attempt();
}

void dialer::connection_lost(session&, bool established, std::error_code why, std::string detail) noexcept {
    if (established) backoff_.reset(); // a working connection resets the back-off
    attempt_failed(why ? why : make_error_code(errc::connection_refused), "connection lost: " + detail);
}

void dialer::attempt_failed(std::error_code why, std::string detail) noexcept {
    if (finished_) return;
    if (!session_->wants_connection()) {
        session_->end();
        return;
    }
    if (info_->options.reconnect_ivl.count() < 0) {
        // reconnect_ivl = -1: no second attempt. The endpoint is over: its pipe closes, so
        // the socket stops routing to it (what arrived stays readable), and the monitor
        // hears it once (an established connection's driver reported the disconnect).
        const auto info = info_; // ending the session finishes us
        session_->end(); // first: whoever sees the event finds the pipe already closed
        emit(info->monitor, event_type::closed, info->endpoint, why, detail + "; not reconnecting (reconnect_ivl is -1)");
        return;
    }
    const auto wait = backoff_.next();
    emit(info_->monitor, event_type::connect_retried, info_->endpoint, why, std::move(detail), wait);
    retry_timer_ = reactor_.add_timer(clock::now() + wait, [this] {
        retry_timer_ = {};
        next_attempt();
    });
    if (!retry_timer_) session_->end(); // out of memory: the endpoint gives up
}

void dialer::stop(stop_reason why) noexcept {
    // A connect the socket dropped may still be delivering its queue; the context's end
    // comes to it again and decides that (session::stop).
    if (finished_ || (stopped_ && why == stop_reason::endpoint)) return;
    stopped_ = true;
    session_->stop(why); // decides whether a connection is still wanted
}

void dialer::session_ended(session&) noexcept {
    finish();
}

void dialer::finish() noexcept {
    if (finished_) return;
    finished_ = true;
    reactor_.cancel_timer(retry_timer_);
    abandon();
    reactor_.retire(this);
}

} // namespace volley::detail
