// SPDX-License-Identifier: MPL-2.0
// One attempt to connect a stream endpoint. See connector.hpp.
#include "stream/connector.hpp"

#include "monitor_queue.hpp"
#include "stream_connection.hpp"

#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <unistd.h>

namespace volley::detail {

connector::connector(reactor& r, const stream_family& family, std::string address,
                     std::optional<resolved_address> peer, std::shared_ptr<const endpoint_info> info)
    : dialer(r, std::move(info)), family_(family), address_(std::move(address)), peer_(peer) {}

connector::~connector() {
    if (fd_ >= 0) ::close(fd_);
}

void connector::attempt() noexcept {
    if (!peer_) {
        resolved_address a;
        std::string why;
        if (const auto ec = family_.resolve(address_, false, info_->options, a, why)) {
            attempt_failed(ec, why);
            return;
        }
        peer_ = a;
    }
    const resolved_address peer = *peer_;
    peer_.reset(); // the next attempt resolves again: the name may have moved
    fd_ = ::socket(peer.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
        attempt_failed({errno, std::system_category()}, std::string("socket() failed: ") + std::strerror(errno));
        return;
    }
    prepare_connection(family_, fd_, info_->options);
    if (::connect(fd_, peer.get(), peer.length) == 0) {
        connected();
        return;
    }
    if (errno != EINPROGRESS) {
        const int err = errno;
        abandon();
        attempt_failed({err, std::system_category()}, std::string("connect failed: ") + std::strerror(err));
        return;
    }
    if (const auto ec = reactor_.add(fd_, EPOLLOUT, this)) {
        abandon();
        attempt_failed(ec, "epoll_ctl add failed: " + ec.message());
    }
}

void connector::on_io(std::uint32_t) noexcept {
    if (fd_ < 0) return;
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    reactor_.remove(fd_);
    if (err != 0) {
        abandon();
        attempt_failed({err, std::system_category()}, std::string("connect failed: ") + std::strerror(err));
        return;
    }
    connected();
}

void connector::connected() noexcept {
    const int fd = fd_;
    fd_ = -1;
    emit(info_->monitor, event_type::connected, info_->endpoint);
    std::shared_ptr<stream_connection> e;
    try {
        stream_wire w(reactor_, fd); // owns fd from here, and closes it if what follows throws
        e = std::make_shared<stream_connection>(reactor_, session_, std::move(w));
        reactor_.adopt(e);
    } catch (const std::exception& ex) {
        attempt_failed(make_error_code(errc::protocol_error), std::string("cannot serve the connection: ") + ex.what());
        return;
    }
    e->start(); // on failure it closes, and the session hears of it
}

void connector::abandon() noexcept {
    if (fd_ < 0) return;
    reactor_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
}

} // namespace volley::detail
