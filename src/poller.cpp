// SPDX-License-Identifier: MPL-2.0
// volley::poller: each socket is asked what it can do (socket::events(), which
// arms its readiness descriptor when the answer is nothing); then one poll(2)
// waits on the armed descriptors and the raw ones, up to the timeout or the
// earliest of the sockets' timers; then the sockets are asked again.
#include <volley/poller.hpp>

#include "clock.hpp"
#include "socket_base.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <poll.h>

namespace volley {
namespace {

short poll_mask(poll_events interest) noexcept {
    short m = 0;
    if (has(interest, poll_events::in)) m |= POLLIN;
    if (has(interest, poll_events::out)) m |= POLLOUT;
    return m;
}

poll_events from_revents(short revents) noexcept {
    poll_events e = poll_events::none;
    if ((revents & POLLIN) != 0) e = e | poll_events::in;
    if ((revents & POLLOUT) != 0) e = e | poll_events::out;
    if ((revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) e = e | poll_events::err;
    return e;
}

[[noreturn]] void invalid(const char* what) {
    throw std::system_error(make_error_code(errc::invalid_argument), std::string("volley: poller: ") + what);
}

} // namespace

poller::entry* poller::find(const socket* s, int fd) noexcept {
    auto it = std::find_if(items_.begin(), items_.end(),
                           [&](const entry& e) { return s != nullptr ? e.sock == s : e.sock == nullptr && e.fd == fd; });
    return it == items_.end() ? nullptr : &*it;
}

void poller::add(socket& s, poll_events interest) {
    if (!s.is_open()) throw std::system_error(make_error_code(errc::closed), "volley: poller: add");
    if (find(&s, -1) != nullptr) invalid("socket added twice");
    items_.push_back({&s, -1, interest});
}

void poller::add(int fd, poll_events interest) {
    if (fd < 0) invalid("negative descriptor");
    if (find(nullptr, fd) != nullptr) invalid("descriptor added twice");
    items_.push_back({nullptr, fd, interest});
}

void poller::modify(socket& s, poll_events interest) {
    entry* e = find(&s, -1);
    if (e == nullptr) invalid("modify: socket not added");
    e->interest = interest;
}

void poller::modify(int fd, poll_events interest) {
    entry* e = find(nullptr, fd);
    if (e == nullptr) invalid("modify: descriptor not added");
    e->interest = interest;
}

void poller::remove(socket& s) {
    entry* e = find(&s, -1);
    if (e == nullptr) invalid("remove: socket not added");
    items_.erase(items_.begin() + (e - items_.data()));
}

void poller::remove(int fd) {
    entry* e = find(nullptr, fd);
    if (e == nullptr) invalid("remove: descriptor not added");
    items_.erase(items_.begin() + (e - items_.data()));
}

std::span<const poll_item> poller::wait(std::chrono::milliseconds timeout) noexcept {
    using detail::clock;
    ready_.clear();
    const auto deadline = detail::deadline_after(timeout);
    try {
        pfds_.resize(items_.size());
        ready_.reserve(items_.size());
    } catch (const std::bad_alloc&) {
        return {};
    }
    static_assert(sizeof(pfd) == sizeof(pollfd) && offsetof(pfd, revents) == offsetof(pollfd, revents));
    auto* pfds = reinterpret_cast<pollfd*>(pfds_.data());
    for (;;) {
        // Sockets first: each either reports what it can do, or arms its descriptor.
        clock::time_point wake = deadline;
        for (std::size_t i = 0; i < items_.size(); ++i) {
            const entry& e = items_[i];
            pfds[i] = {e.fd, poll_mask(e.interest), 0};
            if (e.sock == nullptr) continue;
            const poll_events ev = e.sock->events(e.interest);
            if (ev != poll_events::none) {
                ready_.push_back({e.sock, -1, ev});
                pfds[i].fd = -1; // poll() ignores it
                continue;
            }
            pfds[i] = {e.sock->readiness_fd(), POLLIN, 0};
            if (auto* b = e.sock->base()) wake = std::min(wake, b->timer_deadline());
        }
        int ms = 0;
        if (ready_.empty() && wake != clock::time_point::max()) {
            const auto left = std::chrono::ceil<std::chrono::milliseconds>(wake - clock::now()).count();
            ms = static_cast<int>(std::clamp<long long>(left, 0, INT_MAX));
        } else if (ready_.empty()) {
            ms = -1;
        }
        int n = ::poll(pfds, pfds_.size(), ms);
        if (n < 0 && errno != EINTR) n = 0;
        for (std::size_t i = 0; i < items_.size() && n > 0; ++i) {
            if (pfds[i].revents == 0) continue;
            const entry& e = items_[i];
            if (e.sock != nullptr) {
                if (auto* b = e.sock->base()) b->readiness_seen(); // asked again at the top
            } else {
                ready_.push_back({nullptr, e.fd, from_revents(pfds[i].revents)});
            }
        }
        if (!ready_.empty()) return ready_;
        if (deadline != clock::time_point::max() && clock::now() >= deadline) return {};
    }
}

} // namespace volley
