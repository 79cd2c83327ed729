// SPDX-License-Identifier: MPL-2.0
// reactor: one I/O thread on epoll. It runs what must be asynchronous:
// accepting, connecting and reconnecting, handshakes, timers (reconnect,
// heartbeats, handshake deadlines), and moving bytes for connections whose
// application thread is not doing it itself (back-pressure, partial writes,
// lingering output after close).
//
// Everything registered with a reactor is touched only on its thread; other
// threads talk to it with post() (a task queue) or through pipe events in
// its mailbox, both of which wake it with one eventfd write, and only when
// it sleeps. Handlers may be retired while a batch of epoll events is being
// dispatched: retired handlers are skipped and destroyed after the batch.
#pragma once

#include "clock.hpp"
#include "mailbox.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace volley::detail {

class pipe;

// Something with a file descriptor the reactor watches.
class io_handler {
public:
    virtual ~io_handler() = default;
    // Reactor thread: `events` are the EPOLL* bits that fired.
    virtual void on_io(std::uint32_t events) noexcept = 0;

private:
    friend class reactor;
    bool retired_ = false;
    std::size_t owned_index_ = 0; // where the reactor keeps it (reactor::owned_)
};

// Something that owns pipe ends whose events arrive in the reactor's mailbox.
class pipe_handler {
public:
    virtual ~pipe_handler() = default;
    // Reactor thread: `kind` happened to pipe end `p`, which this handler owns.
    virtual void on_pipe_event(event_kind kind, pipe& p) noexcept = 0;
};

class reactor {
public:
    using task = std::function<void()>;
    struct timer_id {
        clock::time_point when{};
        std::uint64_t seq = 0;
        explicit operator bool() const noexcept { return seq != 0; }
    };

    reactor();
    ~reactor(); // stops the thread (see stop())
    reactor(const reactor&) = delete;
    reactor& operator=(const reactor&) = delete;

    // ---- any thread ----
    // Runs `fn` on the reactor thread, after the tasks posted before it. False, and `fn`
    // never runs, when it could not be queued (out of memory): the caller decides what
    // that means, inside a noexcept path too.
    template <class F>
    [[nodiscard]] bool post(F&& fn) noexcept {
        try {
            post_task(task(std::forward<F>(fn)));
            return true;
        } catch (...) {
            return false;
        }
    }
    // Runs `t` on the reactor thread and waits until it has run (at once if called there).
    // False, without running it, if the thread has already ended.
    bool run_sync(task t);
    bool in_thread() const noexcept { return std::this_thread::get_id() == thread_id_.load(); }
    // The mailbox for pipe ends owned by handlers on this reactor (set pipe::handler).
    const std::shared_ptr<detail::mailbox>& mailbox() const noexcept { return mailbox_; }
    // Asks the thread to exit once every adopted handler (listener, connector, connection driver) is
    // retired, and joins it. Idempotent.
    void stop();

    // ---- the epoll set: any thread (epoll_ctl), by the handler's owner under its own lock
    // (a connection driver's socket thread changes its interest too). Events reach `h` on the reactor
    // thread; a removed handler must outlive the current batch of events. ----
    // The errno of a refusal (ENOMEM, ENOSPC past max_user_watches), as a system error code.
    [[nodiscard]] std::error_code add(int fd, std::uint32_t events, io_handler* h) noexcept;
    [[nodiscard]] std::error_code modify(int fd, std::uint32_t events, io_handler* h) noexcept;
    void remove(int fd) noexcept;

    // ---- reactor thread ----
    // Runs `fn` at `when`. An empty id (false) when the timer could not be made (out of
    // memory): `fn` never runs.
    template <class F>
    [[nodiscard]] timer_id add_timer(clock::time_point when, F&& fn) noexcept {
        try {
            return add_timer_task(when, task(std::forward<F>(fn)));
        } catch (...) {
            return {};
        }
    }
    void cancel_timer(timer_id& id) noexcept;
    // Keeps a handler alive until it is retired (stop() waits for that).
    void adopt(std::shared_ptr<io_handler> h);
    // Destroys an adopted handler after the current dispatch batch; no more events reach it.
    void retire(io_handler* h) noexcept;

private:
    void post_task(task t);                             // throws std::bad_alloc
    timer_id add_timer_task(clock::time_point when, task fn); // throws std::bad_alloc
    void run() noexcept;
    void run_tasks_and_events();
    int next_timeout_ms();
    void fire_timers();

    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    std::shared_ptr<detail::mailbox> mailbox_;
    std::mutex tasks_mutex_;
    std::vector<task> tasks_;
    bool exited_ = false; // under tasks_mutex_: the thread runs no more tasks
    std::vector<task> running_;
    std::vector<event> events_;
    std::map<std::pair<clock::time_point, std::uint64_t>, task> timers_;
    std::uint64_t timer_seq_ = 0;
    std::vector<std::shared_ptr<io_handler>> owned_;
    std::vector<io_handler*> retired_;
    std::atomic<bool> stopping_{false};
    std::atomic<std::thread::id> thread_id_{};
    std::thread thread_;
};

} // namespace volley::detail
