// SPDX-License-Identifier: MPL-2.0
// Mailbox events and the futex-based eventcount a socket sleeps on.
#include "mailbox.hpp"

#include "pipe.hpp"

#include <climits>
#include <ctime>
#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace volley::detail {
namespace {

void futex_wait(std::atomic<std::uint32_t>* word, std::uint32_t expected, const timespec* timeout) noexcept {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected, timeout, nullptr, 0);
}

void futex_wake_all(std::atomic<std::uint32_t>* word) noexcept {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr, nullptr, 0);
}

// Drops events: an attach event carries the only reference to a pipe end nobody owns
// yet, so that end is closed (its peer learns of it); the others just release theirs.
void drop_event(const event& e) noexcept {
    if (e.kind == event_kind::attach)
        e.target->close(clock::now());
    else
        e.target->release();
}

void release_events(std::vector<event>& events) noexcept {
    for (auto& e : events) drop_event(e);
    events.clear();
}

} // namespace

mailbox::~mailbox() {
    release_events(events_);
    if (const int fd = signal_fd_.load(std::memory_order_relaxed); fd >= 0) ::close(fd);
}

void mailbox::post(event e) noexcept {
    {
        std::lock_guard lock(mutex_);
        if (!closed_) {
            events_.push_back(e);
            pending_.store(true, std::memory_order_seq_cst);
            e.target = nullptr;
        }
    }
    if (e.target != nullptr) { // refused: the owner has closed
        drop_event(e);
        return;
    }
    notify();
}

void mailbox::wake() noexcept {
    pending_.store(true, std::memory_order_seq_cst);
    notify();
}

void mailbox::notify() noexcept {
    // Pairs with prepare_sleep() / arm_fd(): either the sleeper sees pending_, or we see sleeping_.
    if (!sleeping_.load(std::memory_order_seq_cst)) return;
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    const std::uint64_t one = 1;
    if (wake_fd_ >= 0) {
        [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one); // an eventfd never blocks here
    } else if (on_fd_.load(std::memory_order_seq_cst)) {
        // Once per arming (edge-triggered): the owner looks, then arms again.
        if (sleeping_.exchange(false, std::memory_order_acq_rel)) {
            [[maybe_unused]] auto n = ::write(signal_fd_.load(std::memory_order_acquire), &one, sizeof one);
        }
    } else {
        futex_wake_all(&epoch_);
    }
}

int mailbox::signal_fd() noexcept {
    int fd = signal_fd_.load(std::memory_order_acquire);
    if (fd < 0) {
        fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        signal_fd_.store(fd, std::memory_order_release);
    }
    return fd;
}

void mailbox::arm_fd() noexcept {
    if (signal_fd() < 0) return;
    on_fd_.store(true, std::memory_order_seq_cst);
    sleeping_.store(true, std::memory_order_seq_cst);
}

void mailbox::drain_fd() noexcept {
    const int fd = signal_fd_.load(std::memory_order_acquire);
    if (fd < 0) return;
    std::uint64_t count;
    [[maybe_unused]] auto n = ::read(fd, &count, sizeof count);
}

void mailbox::raise_fd() noexcept {
    sleeping_.store(false, std::memory_order_relaxed);
    const int fd = signal_fd_.load(std::memory_order_acquire);
    if (fd < 0) return;
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
}

void mailbox::take(std::vector<event>& out) noexcept {
    out.clear();
    std::lock_guard lock(mutex_);
    pending_.store(false, std::memory_order_relaxed);
    out.swap(events_);
}

void mailbox::close() noexcept {
    std::vector<event> dropped;
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        dropped.swap(events_);
        pending_.store(false, std::memory_order_relaxed);
    }
    release_events(dropped);
}

std::uint32_t mailbox::prepare_sleep() noexcept {
    const std::uint32_t ticket = epoch_.load(std::memory_order_seq_cst);
    on_fd_.store(false, std::memory_order_seq_cst); // this sleep is on the futex
    sleeping_.store(true, std::memory_order_seq_cst);
    return ticket;
}

bool mailbox::sleep(std::uint32_t ticket, clock::time_point deadline) noexcept {
    bool woken = true;
    while (!pending_.load(std::memory_order_seq_cst) && epoch_.load(std::memory_order_seq_cst) == ticket) {
        if (deadline == clock::time_point::max()) {
            futex_wait(&epoch_, ticket, nullptr);
            continue;
        }
        const auto left = deadline - clock::now();
        if (left <= clock::duration::zero()) {
            woken = false;
            break;
        }
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
        const timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
        futex_wait(&epoch_, ticket, &ts);
    }
    sleeping_.store(false, std::memory_order_relaxed);
    return woken;
}

} // namespace volley::detail
