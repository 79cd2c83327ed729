// SPDX-License-Identifier: MPL-2.0
// socket_base: what every pattern socket shares. It owns the links (one per
// connection: pipe end, channel, peer properties) and the endpoints, turns
// mailbox events into the pattern's on_* hooks, runs the pattern's timer,
// and runs the blocking discipline of send and recv: try, spin briefly
// (adaptive), then park the watched policies and sleep on the mailbox until
// an edge event, the pattern's timer, a timeout or context shutdown.
//
// A pattern (patterns/*.cpp) derives from it, composes routing policies and
// registers them with watch(); it never names a transport. All members run
// on the socket's thread except terminate(), which any thread may call.
#pragma once

#include "clock.hpp"
#include "fence.hpp"
#include "link.hpp"
#include "mailbox.hpp"
#include "options.hpp"
#include "socket_shared.hpp"
#include "spin.hpp"
#include "transport.hpp"

#include <volley/socket.hpp>

#include <atomic>
#include <memory>
#include <optional>
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
    // On failure `why` names the cause (uri.hpp's endpoint_error).
    std::error_code bind(std::string_view uri, std::string& why);
    std::error_code connect(std::string_view uri, std::string& why);
    std::error_code unbind(std::string_view uri, std::string& why);
    std::error_code disconnect(std::string_view uri, std::string& why);
    // Sends frame `m` (its more flag set by the caller); consumes it only on success.
    errc send(message& m, bool dontwait) noexcept;
    errc recv(message& m, bool dontwait) noexcept;
    std::error_code set_option(option_id id, const option_value& v, std::string& why) noexcept;
    const socket_options& options() const noexcept { return options_; }
    const std::string& last_endpoint() const noexcept { return last_endpoint_; }
    socket_type type() const noexcept { return type_; }
    // Stops every endpoint and closes every link (queued output lingers in the pipes).
    // Must be called before destruction, while the derived pattern still exists.
    void close() noexcept;

    // ---- any thread ----
    // Context shutdown: blocked and later calls fail with errc::terminated.
    void terminate() noexcept;

    // The socket's event queue (it has one from birth); enables it: events are kept from now on.
    std::shared_ptr<detail::monitor_queue> monitor_queue();

    // ---- for tests ----
    // Handles pending mailbox events now; returns the number of links attached.
    std::size_t pipe_count() noexcept;

    // ---- socket thread ----
    // One entry per connection: its endpoint, the peer's routing id, what it dropped.
    std::vector<peer_info> peers() noexcept;
    // What the socket can do now, of `interest`; arms readiness_fd() when nothing (see socket.hpp).
    poll_events events(poll_events interest) noexcept;
    int readiness_fd() noexcept { return mailbox_->signal_fd(); }
    // The pattern's timer, for a poller that must wake for it.
    clock::time_point timer_deadline() const noexcept { return next_deadline(); }
    // The readiness fd after its wait: drained, so it fires only on the next change.
    void readiness_seen() noexcept { mailbox_->drain_fd(); }

protected:
    // Hooks the pattern implements. `l` stays valid until on_terminated(l) returns; a
    // pattern that calls drop(l) (even inside on_attach) must forget l at once.
    virtual void on_attach(link& l) = 0;
    virtual void on_terminated(link& l) = 0;
    // A parked link has messages again / room again. By default the watched policy of that
    // direction that holds the link takes it back into its rotation.
    virtual void on_read_activated(link& l);
    virtual void on_write_activated(link& l);
    // The connection behind `l` was replaced by a reconnect: state the pattern told the old
    // peer (a SUB's subscriptions) must be told again.
    virtual void on_hiccup(link&) {}
    // The connection behind `l` ended; `l` is kept for the next one (a connect's link). What
    // was sent on it may be lost.
    virtual void on_connection_lost(link&) {}
    // An action option was set (subscribe, unsubscribe; is_action()): its value is in
    // options(). Default: errc::not_supported.
    virtual std::error_code on_action(option_id id);
    // Queue `m` on some link (consuming it) or return would_block / not_supported / ...
    virtual errc on_send(message& m) = 0;
    // Fill `m` from some link or return would_block / not_supported / ...
    virtual errc on_recv(message& m) = 0;
    // The pattern's timer: when on_timer() wants to run next (time_point::max(): never).
    // Honoured by blocking send and recv (they wake for it) and checked on every call;
    // it runs only within the socket's own calls, on its thread.
    virtual clock::time_point next_deadline() const noexcept { return clock::time_point::max(); }
    virtual void on_timer(clock::time_point) noexcept {}
    // True when a send would be taken now (events()). By default: the watched policy of the
    // out direction has a link with room (its can_send()); false when there is none.
    virtual bool can_send() noexcept;

    // For the pattern: `policy` is parked when the socket sleeps waiting for `dir`, and
    // takes activated links of that direction back (see on_read_activated). A policy needs
    // bool park(bool symmetric) (true: a heavy fence is needed; src/fence.hpp), unpark() and
    // activated(link&); at most one per direction.
    template <class Policy>
    void watch(direction dir, Policy& policy) noexcept {
        watched_[static_cast<int>(dir)] = {
            &policy, [](void* p, bool symmetric) { return static_cast<Policy*>(p)->park(symmetric); },
            [](void* p) { return static_cast<Policy*>(p)->unpark(); },
            [](void* p, link& l) { static_cast<Policy*>(p)->activated(l); },
            [](void* p) {
                if constexpr (requires(Policy & q) { q.can_send(); })
                    return static_cast<Policy*>(p)->can_send();
                else
                    return false;
            }};
    }
    // For the pattern: closes `l` from this side (e.g. PAIR refusing a second peer).
    void drop(link& l) noexcept;
    // For the pattern: the connect_routing_id that was set when `l`'s connect was made, or
    // nullptr (a bind's link, or none was set).
    const std::string* connect_routing_id(const link& l) const noexcept;
    // For the pattern: what the socket's connections read of it live (ROUTER: its ids).
    socket_shared& shared() noexcept { return *shared_; }
    // For the pattern: every live link (ROUTER hands over, PUB and SUB broadcast).
    const std::vector<std::unique_ptr<link>>& links() const noexcept { return links_; }

private:
    struct endpoint_entry {
        std::string uri;
        std::uint64_t id;
        bool bound;
        std::unique_ptr<transport::endpoint_handle> handle;
        std::string connect_routing_id; // ROUTER: the id its peer gets
        bool polled;                    // its transport's peers are polled for (caps::polled)
    };
    // A registered policy, type-erased (see watch()).
    struct watched_policy {
        void* policy = nullptr;
        bool (*park)(void*, bool symmetric) = nullptr; // true: a heavy fence is needed
        bool (*unpark)(void*) = nullptr;
        void (*activated)(void*, link&) = nullptr;
        bool (*can_send)(void*) = nullptr;
    };

    template <class Attempt>
    errc wait(direction dir, std::chrono::milliseconds timeout, Attempt&& attempt) noexcept;
    // recv's attempt: a frame events() took ahead, else the pattern's.
    errc attempt_recv(message& m) noexcept;
    // Arms the readiness fd and parks the watched policies of `interest` (the directions a
    // peer can change); true when something changed meanwhile (then nothing is armed).
    bool arm(poll_events interest) noexcept;
    void run_timer() noexcept;
    void process_mailbox() noexcept;
    // Runs a pattern hook about the link of pipe end `p`; a hook that throws (out of
    // memory: hooks may allocate) costs that link, never the process (noexcept callers).
    template <class Hook>
    void guarded(pipe& p, Hook&& hook) noexcept;
    void attach(pipe& p, std::uint64_t endpoint_id, std::shared_ptr<const attachment> a) noexcept;
    void peer_closed(link& l) noexcept;
    void reap_draining() noexcept;
    void close_link(link& l) noexcept;
    void terminate_link(link& l, clock::time_point linger_deadline) noexcept;
    link* owner_of(const pipe& p) const noexcept;
    clock::time_point linger_deadline() const noexcept;
    std::error_code add_endpoint(std::string_view uri, bool bind, std::string& why);
    std::error_code remove_endpoint(std::string_view uri, bool bound, std::string& why);
    // Sets the spin's ceiling from busy_poll, or, at -1, from the endpoints' transports.
    void update_spin_ceiling() noexcept;

    std::shared_ptr<context_core> ctx_;
    const socket_type type_;
    socket_options options_;
    std::shared_ptr<mailbox> mailbox_;
    std::atomic<bool> terminated_{false};
    bool closed_ = false;
    bool sending_message_ = false;   // frames of a message were sent, its last one is due
    bool receiving_message_ = false; // frames of a message were received, more follow
    std::vector<std::unique_ptr<link>> links_; // every attached link; pipe::owner_slot indexes it
    send_clock send_clock_;                     // read by links with a channel
    std::vector<link*> draining_; // to go when read out: peer closed, or closing mid-message
    std::vector<event> events_;   // scratch for process_mailbox
    std::vector<endpoint_entry> endpoints_;
    watched_policy watched_[2];   // by direction
    std::string last_endpoint_;
    std::shared_ptr<detail::monitor_queue> monitor_;
    std::shared_ptr<socket_shared> shared_; // what its connections read live (linger, peer slots)
    spin_budget spin_;
    fence_mode fence_mode_;        // the pairing asked of the writers when recv parks
    std::uint64_t frames_in_ = 0;  // frames received, for fence_mode_
    std::optional<message> prefetched_; // a frame events() took from the pattern, for the next recv
};

} // namespace volley::detail
