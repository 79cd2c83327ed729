// SPDX-License-Identifier: MPL-2.0
// engine: one ZMTP connection over a stream socket (tcp or ipc). It runs on
// its reactor's thread: it sends the greeting and READY, checks the peer's,
// then moves frames between the file descriptor and its end of a pipe whose
// other end belongs to the socket. Many small messages leave in one writev
// and arrive from one read; large bodies go out from their own buffers and
// come in straight into the message the application will receive.
//
// Anything wrong on the wire (a bad greeting, an impossible frame, a
// message over maxmsgsize, a silent peer) closes only this connection, with
// a monitor event that names the cause.
#pragma once

#include "mailbox.hpp"
#include "options.hpp"
#include "reactor.hpp"
#include "zmtp/decoder.hpp"
#include "zmtp/encoder.hpp"
#include "zmtp/wire.hpp"

#include <memory>
#include <optional>
#include <string>

namespace volley::detail {

class monitor_queue;
class pipe;

// What a connection needs to know of its socket, copied when the endpoint was made.
struct session_info {
    socket_type type;
    socket_options options;
    std::shared_ptr<mailbox> socket_mailbox;
    std::shared_ptr<monitor_queue> monitor;
    std::uint64_t endpoint_id;
    std::string endpoint; // resolved URI, for monitor events
};

class engine;

// The listener or connector an engine reports to.
class engine_owner {
public:
    virtual ~engine_owner() = default;
    // Reactor thread: `e` closed and is about to be destroyed. `established`: it had
    // completed the handshake. A borrowed pipe end is handed back to its owner before this.
    virtual void engine_closed(engine& e, bool established, std::error_code why) noexcept = 0;
};

class engine final : public io_handler, public pipe_handler {
public:
    // `fd`: a connected, non-blocking stream socket, now owned by the engine.
    // `borrowed`: the connector's pipe end (kept across reconnects), or nullptr for an
    // accepted connection, whose pipe is made when the handshake succeeds.
    engine(reactor& r, int fd, std::shared_ptr<const session_info> info, pipe* borrowed, engine_owner& owner);
    ~engine() override;

    // Reactor thread: registers the descriptor and sends the greeting.
    void start();
    // Reactor thread: the owner stops the connection (unbind, disconnect, context end): what
    // the socket queued is flushed until `deadline`, then the connection closes.
    void stop(clock::time_point deadline) noexcept;

    void on_io(std::uint32_t events) noexcept override;
    void on_pipe_event(event_kind kind, pipe& p) noexcept override;
    // True once the handshake succeeded (the connection has a pipe to the socket).
    bool established() const noexcept { return handshake_done_; }

private:
    enum class state { greeting, handshake, active, lingering, closed };

    void read_input() noexcept;
    bool take_greeting() noexcept;
    bool handle_frame(zmtp::decoder::frame& f) noexcept;
    bool handle_ready(const message& body) noexcept;
    bool handle_command(const message& body) noexcept;
    bool deliver(zmtp::decoder::frame& f) noexcept;
    void resume_input() noexcept;
    void pump_output() noexcept;
    bool flush() noexcept;
    void on_established() noexcept;
    void linger(clock::time_point deadline) noexcept;
    void set_events(bool in, bool out) noexcept;
    void send_ping() noexcept;
    void arm_ttl(std::chrono::milliseconds ttl) noexcept;
    void fail(errc code, std::string detail) noexcept;
    void close(std::error_code why, std::string detail) noexcept;

    reactor& reactor_;
    int fd_;
    std::shared_ptr<const session_info> info_;
    engine_owner& owner_;
    pipe* pipe_;
    const bool borrowed_;
    state state_ = state::greeting;
    bool handshake_done_ = false;

    std::byte peer_greeting_[zmtp::greeting_size];
    std::size_t greeting_received_ = 0;
    std::uint8_t peer_minor_ = 0;

    zmtp::decoder decoder_;
    zmtp::encoder encoder_;
    std::optional<zmtp::decoder::frame> held_; // decoded, waiting for room in the pipe
    bool registered_ = false; // the descriptor is in the reactor's epoll set
    bool in_enabled_ = false;
    bool out_enabled_ = false;
    bool input_paused_ = false;  // the pipe to the socket is full
    bool output_parked_ = false; // the pipe from the socket was empty: it posts when it fills

    clock::time_point last_received_;
    clock::time_point ping_sent_;
    reactor::timer_id handshake_timer_;
    reactor::timer_id heartbeat_timer_;
    reactor::timer_id heartbeat_timeout_timer_;
    reactor::timer_id ttl_timer_;
    reactor::timer_id linger_timer_;
    std::chrono::milliseconds peer_ttl_{0};
};

} // namespace volley::detail
