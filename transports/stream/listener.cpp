// SPDX-License-Identifier: MPL-2.0
// Accepting stream connections. See listener.hpp.
#include "stream/listener.hpp"

#include "monitor_queue.hpp"
#include "stream_connection.hpp"

#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <unistd.h>

namespace volley::detail {
namespace {
constexpr int accepts_per_turn = 64;
constexpr auto accept_backoff = std::chrono::milliseconds(100);
} // namespace

listener::listener(reactor& r, const stream_family& family, int fd, resolved_address bound,
                   std::shared_ptr<const endpoint_info> info)
    : reactor_(r), family_(family), fd_(fd), bound_(bound), info_(std::move(info)) {}

listener::~listener() {
    if (fd_ >= 0) ::close(fd_);
}

std::error_code listener::start() noexcept {
    return reactor_.add(fd_, EPOLLIN, this);
}

void listener::on_io(std::uint32_t) noexcept {
    for (int i = 0; i < accepts_per_turn && !stopped_; ++i) {
        const int cfd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0) {
            const int err = errno;
            if (err == EAGAIN || err == EWOULDBLOCK) return;
            if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
            // Out of descriptors or memory: the listening socket stays readable, so pause
            // accepting for a moment instead of spinning, and say why.
            emit(info_->monitor, event_type::accept_failed, info_->endpoint, {err, std::system_category()},
                 std::string("accept failed: ") + std::strerror(err));
            reactor_.remove(fd_);
            backoff_timer_ = reactor_.add_timer(clock::now() + accept_backoff, [this] { resume_accepting(); });
            if (!backoff_timer_) // out of memory too: watch the socket again rather than never
                (void)reactor_.add(fd_, EPOLLIN, this);
            return;
        }
        prepare_connection(family_, cfd, info_->options);
        emit(info_->monitor, event_type::accepted, info_->endpoint);
        std::shared_ptr<session> sess;
        std::shared_ptr<stream_connection> e;
        bool adopted = false;
        try {
            stream_wire w(reactor_, cfd); // owns cfd from here, and closes it if what follows throws
            sess = make_session(reactor_, info_, *this, false);
            e = std::make_shared<stream_connection>(reactor_, sess, std::move(w));
            reactor_.adopt(sess);
            adopted = true;
            sessions_.insert(sess.get());
            reactor_.adopt(e);
        } catch (const std::exception& ex) {
            if (adopted) sess->end();
            emit(info_->monitor, event_type::accept_failed, info_->endpoint, make_error_code(errc::protocol_error),
                 std::string("cannot serve the connection: ") + ex.what());
            continue;
        }
        e->start();
    }
}

void listener::resume_accepting() noexcept {
    backoff_timer_ = {};
    if (stopped_) return;
    if (reactor_.add(fd_, EPOLLIN, this)) { // still out of resources: try again later
        backoff_timer_ = reactor_.add_timer(clock::now() + accept_backoff, [this] { resume_accepting(); });
        if (!backoff_timer_)
            emit(info_->monitor, event_type::accept_failed, info_->endpoint,
                 make_error_code(std::errc::not_enough_memory), "accepting stopped: out of memory");
    }
}

void listener::stop(stop_reason why) noexcept {
    if (!stopped_) {
        stopped_ = true;
        reactor_.cancel_timer(backoff_timer_);
        reactor_.remove(fd_);
        ::close(fd_);
        fd_ = -1;
        family_.after_close(bound_);
        emit(info_->monitor, event_type::closed, info_->endpoint);
    }
    // Copy: stopping a session may end it, which erases it from sessions_.
    const std::vector<session*> live(sessions_.begin(), sessions_.end());
    for (session* s : live) s->stop(why);
    retire_if_done();
}

void listener::session_ended(session& s) noexcept {
    sessions_.erase(&s);
    retire_if_done();
}

void listener::retire_if_done() noexcept {
    if (stopped_ && sessions_.empty()) reactor_.retire(this);
}

} // namespace volley::detail
