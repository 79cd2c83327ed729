// SPDX-License-Identifier: MPL-2.0
// The epoll loop: posted tasks, pipe events, timers, file descriptors.
#include "reactor.hpp"

#include "pipe.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <future>
#include <stdexcept>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <system_error>
#include <thread>
#include <unistd.h>

namespace volley::detail {

reactor::reactor() : mailbox_(std::make_shared<detail::mailbox>()) {
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "volley: epoll_create1");
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
        ::close(epoll_fd_);
        throw std::system_error(errno, std::generic_category(), "volley: eventfd");
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr; // the wake fd
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    mailbox_->set_wake_fd(wake_fd_);
    thread_ = std::thread([this] { run(); });
}

reactor::~reactor() {
    stop();
    mailbox_->close();
    ::close(wake_fd_);
    ::close(epoll_fd_);
}

void reactor::post_task(task t) {
    {
        std::lock_guard lock(tasks_mutex_);
        tasks_.push_back(std::move(t));
    }
    mailbox_->wake();
}

bool reactor::run_sync(task t) {
    if (in_thread()) {
        t();
        return true;
    }
    std::promise<void> done;
    auto finished = done.get_future();
    {
        std::lock_guard lock(tasks_mutex_);
        if (exited_) return false;
        tasks_.push_back([&t, &done] {
            t();
            done.set_value();
        });
    }
    mailbox_->wake();
    finished.wait();
    return true;
}

void reactor::stop() {
    if (!thread_.joinable()) return;
    stopping_.store(true, std::memory_order_release);
    mailbox_->wake();
    thread_.join();
}

std::error_code reactor::add(int fd, std::uint32_t events, io_handler* h) noexcept {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = h;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return {errno, std::system_category()};
    return {};
}

std::error_code reactor::modify(int fd, std::uint32_t events, io_handler* h) noexcept {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = h;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0) return {errno, std::system_category()};
    return {};
}

void reactor::remove(int fd) noexcept {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

reactor::timer_id reactor::add_timer_task(clock::time_point when, task fn) {
    timer_id id{when, ++timer_seq_};
    timers_.emplace(std::make_pair(when, id.seq), std::move(fn));
    return id;
}

void reactor::cancel_timer(timer_id& id) noexcept {
    if (id) timers_.erase(std::make_pair(id.when, id.seq));
    id = {};
}

void reactor::adopt(std::shared_ptr<io_handler> h) {
    h->owned_index_ = owned_.size();
    owned_.push_back(std::move(h));
}

void reactor::retire(io_handler* h) noexcept {
    if (h->retired_) return;
    h->retired_ = true;
    retired_.push_back(h);
}

void reactor::run_tasks_and_events() {
    if (!mailbox_->pending()) return;
    mailbox_->take(events_);
    {
        std::lock_guard lock(tasks_mutex_);
        running_.swap(tasks_);
    }
    for (auto& t : running_) t();
    running_.clear();
    // Woken to send what sockets write (a burst; read_activated): a socket's thread that
    // shares our CPU is still producing, and yielding lets it queue a bigger batch for one
    // writev per connection; on a CPU of our own this returns at once. Once per batch of
    // events, not per connection: with several connections woken together, a yield each
    // cost a context switch each (router_thr tcp, 4 clients: 25 k of 55 k sched_yield).
    bool yielded = false;
    for (const event& e : events_) {
        if (!yielded && e.kind == event_kind::read_activated) {
            std::this_thread::yield();
            yielded = true;
        }
        pipe& p = *e.target;
        if (p.handler != nullptr) p.handler->on_pipe_event(e.kind, p);
        p.release(); // the event's reference
    }
    events_.clear();
}

void reactor::fire_timers() {
    if (timers_.empty()) return;
    const auto now = clock::now();
    while (!timers_.empty() && timers_.begin()->first.first <= now) {
        auto node = timers_.extract(timers_.begin());
        node.mapped()();
    }
}

int reactor::next_timeout_ms() {
    if (timers_.empty()) return -1;
    const auto left = timers_.begin()->first.first - clock::now();
    if (left <= clock::duration::zero()) return 0;
    // Round up: waking a little late is fine, waking early means a useless lap.
    return static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(left).count()) + 1;
}

void reactor::run() noexcept {
    thread_id_.store(std::this_thread::get_id());
    epoll_event batch[64];
    for (;;) {
        run_tasks_and_events();
        fire_timers();
        // Destroy what was retired during the last lap.
        // Swap-and-pop by the index each keeps: constant time, so churn through many
        // connections does not cost a search of all of them per close.
        for (io_handler* h : retired_) {
            const std::size_t i = h->owned_index_;
            if (i >= owned_.size() || owned_[i].get() != h) continue; // retired, never adopted
            if (i + 1 != owned_.size()) {
                std::swap(owned_[i], owned_.back());
                owned_[i]->owned_index_ = i;
            }
            owned_.pop_back(); // destroys h
        }
        retired_.clear();
        if (stopping_.load(std::memory_order_acquire) && owned_.empty() && timers_.empty()) {
            std::lock_guard lock(tasks_mutex_);
            if (tasks_.empty()) { // a run_sync() caller waits for every task accepted before this
                exited_ = true;
                break;
            }
            continue;
        }

        const auto ticket = mailbox_->prepare_sleep();
        (void)ticket;
        const int timeout = mailbox_->pending_before_sleep() ? 0 : next_timeout_ms();
        const int n = ::epoll_wait(epoll_fd_, batch, 64, timeout);
        mailbox_->cancel_sleep();
        for (int i = 0; i < n; ++i) {
            auto* h = static_cast<io_handler*>(batch[i].data.ptr);
            if (h == nullptr) {
                std::uint64_t drained;
                [[maybe_unused]] auto r = ::read(wake_fd_, &drained, sizeof drained);
                continue;
            }
            if (!h->retired_) h->on_io(batch[i].events);
        }
    }
    // Whatever is still queued will not run: release the pipe references events hold.
    mailbox_->close();
}

} // namespace volley::detail
