// SPDX-License-Identifier: MPL-2.0
// socket_base: what every pattern socket shares. It owns the pipes and the
// endpoints, turns mailbox events into the pattern's on_* hooks, and runs
// the blocking discipline of send and recv: try, spin briefly (adaptive),
// then park the pipes and sleep on the mailbox until an edge event, a
// timeout or context shutdown.
//
// A pattern (patterns/*.cpp) derives from it and implements the hooks with
// routing policies; it never names a transport. All members run on the
// socket's thread except terminate(), which any thread may call.
#pragma once

#include "clock.hpp"
#include "mailbox.hpp"
#include "options.hpp"
#include "pipe.hpp"
#include "spin.hpp"
#include "transport.hpp"

#include <volley/socket.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace volley::detail {

class context_core;

enum class direction { in, out };

class socket_base {
public:
    socket_base(context_core& ctx, socket_type type);
    virtual ~socket_base();
    socket_base(const socket_base&) = delete;
    socket_base& operator=(const socket_base&) = delete;

    // ---- the public API's implementation (socket thread) ----
    std::error_code bind(std::string_view uri);
    std::error_code connect(std::string_view uri);
    std::error_code unbind(std::string_view uri);
    std::error_code disconnect(std::string_view uri);
    // Sends frame `m` (its more flag set by the caller); consumes it only on success.
    errc send(message& m, bool dontwait) noexcept;
    errc recv(message& m, bool dontwait) noexcept;
    std::error_code set_option(option_id id, const option_value& v) noexcept;
    const socket_options& options() const noexcept { return options_; }
    const std::string& last_endpoint() const noexcept { return last_endpoint_; }
    socket_type type() const noexcept { return type_; }
    // Stops every endpoint and closes every pipe (queued output lingers in the pipes).
    // Must be called before destruction, while the derived pattern still exists.
    void close() noexcept;

    // ---- any thread ----
    // Context shutdown: blocked and later calls fail with errc::terminated.
    void terminate() noexcept;

    // The socket's event queue (it has one from birth); enables it: events are kept from now on.
    std::shared_ptr<detail::monitor_queue> monitor_queue();

    // ---- for tests ----
    // Handles pending mailbox events now; returns the number of pipes attached.
    std::size_t pipe_count() noexcept;

protected:
    // Hooks the pattern implements. `p` stays valid until on_terminated(p) returns; a
    // pattern that calls drop(p) (even inside on_attach) must forget p at once.
    virtual void on_attach(pipe& p) = 0;
    virtual void on_terminated(pipe& p) = 0;
    virtual void on_read_activated(pipe& p) = 0;
    virtual void on_write_activated(pipe& p) = 0;
    // Queue `m` on some pipe (consuming it) or return would_block / not_supported.
    virtual errc on_send(message& m) = 0;
    // Fill `m` from some pipe or return would_block / not_supported.
    virtual errc on_recv(message& m) = 0;
    // Park every pipe of `dir` the pattern polls (it is about to sleep).
    virtual void on_park(direction dir) = 0;
    // After parking: re-activate parked pipes that are ready after all; true if any is.
    virtual bool on_unpark(direction dir) = 0;

    // For the pattern: closes `p` from this side (e.g. PAIR refusing a second peer).
    void drop(pipe& p) noexcept;

private:
    struct endpoint_entry {
        std::string uri;
        std::uint64_t id;
        bool bound;
        std::unique_ptr<transport::endpoint_handle> handle;
    };

    template <class Attempt>
    errc wait(direction dir, std::chrono::milliseconds timeout, Attempt&& attempt) noexcept;
    void process_mailbox() noexcept;
    void attach(pipe& p, std::uint64_t endpoint_id) noexcept;
    void peer_closed(pipe& p) noexcept;
    void reap_draining() noexcept;
    void close_pipe(pipe& p) noexcept;
    void terminate_pipe(pipe& p, clock::time_point linger_deadline) noexcept;
    bool owns(const pipe& p) const noexcept;
    clock::time_point linger_deadline() const noexcept;
    std::error_code add_endpoint(std::string_view uri, bool bind);
    std::error_code remove_endpoint(std::string_view uri, bool bound);

    std::shared_ptr<context_core> ctx_;
    const socket_type type_;
    socket_options options_;
    std::shared_ptr<mailbox> mailbox_;
    std::atomic<bool> terminated_{false};
    bool closed_ = false;
    bool sending_message_ = false;   // frames of a message were sent, its last one is due
    bool receiving_message_ = false; // frames of a message were received, more follow
    std::vector<pipe*> pipes_;    // every attached pipe; pipe::owner_slot indexes it
    std::vector<pipe*> draining_; // to go when read out: peer closed, or closing mid-message
    std::vector<event> events_;   // scratch for process_mailbox
    std::vector<endpoint_entry> endpoints_;
    std::string last_endpoint_;
    std::shared_ptr<detail::monitor_queue> monitor_;
    spin_budget spin_;
};

} // namespace volley::detail
