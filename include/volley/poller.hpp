// SPDX-License-Identifier: MPL-2.0
// volley::poller: waits on several sockets and raw file descriptors at once
// (libzmq's zmq_poll and zmq_poller), with a timeout. For an event loop of
// the application's own (epoll, asio, libuv), use socket::readiness_fd() and
// socket::events() instead: the poller is built on them.
#pragma once

#include <volley/socket.hpp>

#include <chrono>
#include <span>
#include <vector>

namespace volley {

/// One ready item, as poller::wait() reports it.
struct poll_item {
    socket* sock = nullptr;                 ///< the socket, or nullptr for a descriptor
    int fd = -1;                            ///< the descriptor (-1 for a socket)
    poll_events events = poll_events::none; ///< what it can do now (err: context shut down, socket
                                            ///< closed, or for a descriptor POLLERR / POLLHUP / POLLNVAL)
};

/// A set of sockets and descriptors to wait on. Used by one thread at a time, the thread
/// that uses its sockets. It keeps sockets by address: remove a socket before moving or
/// destroying it. Control calls throw std::system_error (invalid_argument for an item added
/// twice or never added); wait() never throws.
class poller {
public:
    /// Waits for `interest` (in, out, or both) on `s`.
    void add(socket& s, poll_events interest);
    /// Waits for `interest` on descriptor `fd` (in: POLLIN, out: POLLOUT).
    void add(int fd, poll_events interest);
    /// Waits for `interest` on `s` from now on, instead of what add() or modify() gave.
    void modify(socket& s, poll_events interest);
    /// Waits for `interest` on descriptor `fd` from now on.
    void modify(int fd, poll_events interest);
    /// Stops waiting on `s`.
    void remove(socket& s);
    /// Stops waiting on descriptor `fd` (the poller never closes it).
    void remove(int fd);
    /// The number of sockets and descriptors added.
    std::size_t size() const noexcept { return items_.size(); }

    /// Waits up to `timeout` (0: look and return; volley::infinite: no limit) until some item
    /// is ready, and returns the ready ones (empty: the timeout passed). Sockets' own timers
    /// (a REQ's resend) run meanwhile. The span is valid until the next call.
    std::span<const poll_item> wait(std::chrono::milliseconds timeout) noexcept;

private:
    struct entry {
        socket* sock;
        int fd;
        poll_events interest;
    };
    entry* find(const socket* s, int fd) noexcept;

    // Laid out as struct pollfd (checked in poller.cpp), so that <poll.h> stays out of here.
    struct pfd {
        int fd;
        short events;
        short revents;
    };

    std::vector<entry> items_;
    std::vector<poll_item> ready_;
    std::vector<pfd> pfds_; // one per item, rebuilt for each wait
};

} // namespace volley
