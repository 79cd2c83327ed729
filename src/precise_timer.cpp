// SPDX-License-Identifier: MPL-2.0
// precise_timer on timerfd. See precise_timer.hpp.
#include "precise_timer.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <system_error>
#include <unistd.h>

namespace volley::detail {

precise_timer::precise_timer(reactor& r, std::function<void()> fire) : reactor_(r), fire_(std::move(fire)) {
    fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "volley: timerfd_create");
    if (const auto ec = reactor_.add(fd_, EPOLLIN, this)) {
        ::close(fd_);
        throw std::system_error(ec, "volley: epoll_ctl add (timerfd)");
    }
}

precise_timer::~precise_timer() {
    close();
}

void precise_timer::arm(std::chrono::nanoseconds after) noexcept {
    if (fd_ < 0) return;
    const auto ns = std::max<std::int64_t>(after.count(), 1); // 0 would disarm
    itimerspec spec{};
    spec.it_value.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
    spec.it_value.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    ::timerfd_settime(fd_, 0, &spec, nullptr);
}

void precise_timer::close() noexcept {
    if (fd_ < 0) return;
    reactor_.remove(fd_);
    ::close(fd_);
    fd_ = -1;
}

void precise_timer::on_io(std::uint32_t) noexcept {
    if (fd_ < 0) return; // closed during this batch of events
    std::uint64_t expirations = 0;
    if (::read(fd_, &expirations, sizeof expirations) != sizeof expirations) return; // re-armed meanwhile
    fire_();
}

} // namespace volley::detail
