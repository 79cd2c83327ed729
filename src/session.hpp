// SPDX-License-Identifier: MPL-2.0
// session: the reactor-side owner of one of a socket's connections, the job
// of libzmq's session_base. It is made in one place for every connection-
// oriented transport (make_session) and holds what outlives a single
// connection:
//
//   socket --pipe--> session --> connection (driver/driver.hpp: ZMTP over a stream wire for tcp/ipc; later rdma, shm)
//                       |           reports: started, up (peer properties), down
//                       +-- the pipe end, kept across reconnects (a connect's session)
//                       +-- the peer's properties, handed to the socket at attach
//                       +-- the channel slot: the current connection's fast path
//                       +-- linger: what the socket queued is delivered until its deadline
//
// A connect's session makes its pipe at once and attaches it to the socket,
// so messages queue before the first connection and between reconnects; its
// transport (the connector) makes connections for it while it wants one. An
// accepted connection's session makes its pipe when the handshake succeeds,
// so a peer that fails it never reaches the socket. A ROUTER learns its
// peer's routing id in the handshake: for it, a connect's pipe, too, waits
// for the handshake, and each connection gets a fresh one.
//
// Everything here runs on the reactor thread.
#pragma once

#include "channel.hpp"
#include "options.hpp"
#include "peer.hpp"
#include "reactor.hpp"
#include "socket_shared.hpp"

#include <volley/socket.hpp>

#include <memory>
#include <string>

namespace volley::detail {

class mailbox;
class monitor_queue;
class pipe;

// What a connection needs to know of its socket, copied when the endpoint was made (what
// must stay live is in `shared`).
struct endpoint_info {
    socket_type type;
    socket_options options;
    std::shared_ptr<mailbox> socket_mailbox;
    std::shared_ptr<monitor_queue> monitor;
    std::shared_ptr<socket_shared> shared; // live: linger, peer slots
    std::uint64_t endpoint_id;
    std::string endpoint; // resolved URI, for monitor events
};

// One connection as its session drives it. Reactor thread.
class connection {
public:
    virtual ~connection() = default;
    // The pipe from the socket has messages again (its reader was parked).
    virtual void pipe_readable() noexcept = 0;
    // The pipe to the socket has room again (its writer was parked).
    virtual void pipe_writable() noexcept = 0;
    // Deliver what the pipe holds until `deadline`, then close; or close at once if the
    // handshake is not done. Either way the session hears connection_down() later.
    virtual void drain(clock::time_point deadline) noexcept = 0;
};

class session;

// Why an endpoint stops: unbind / disconnect; the context's destructor (what is queued goes
// to a peer connected now, within the socket's linger); context::shutdown() (stop now).
enum class stop_reason { endpoint, context_end, context_shutdown };

// The endpoint a session belongs to: a listener or a connector.
class session_owner {
public:
    virtual ~session_owner() = default;
    // A connect's connection ended or failed and the session wants another: try again.
    // `established`: it had got past its handshake (a working connection resets back-off).
    virtual void connection_lost(session& s, bool established, std::error_code why, std::string detail) noexcept = 0;
    // The session is over (its pipe is closed); it is retired after this returns.
    virtual void session_ended(session& s) noexcept = 0;
};

class session final : public io_handler, public pipe_handler, public std::enable_shared_from_this<session> {
public:
    // Made by make_session(), on any thread; adopted by the reactor before it is used there.
    session(reactor& r, std::shared_ptr<const endpoint_info> info, session_owner& owner, bool connect);
    ~session() override;

    // ---- the connection's side ----
    // A connection (fd connected or accepted) begins its handshake. One at a time.
    void connection_started(connection& c) noexcept;
    // The admission of a peer whose handshake said who it is, before its connection is up,
    // the same for every transport: its socket type must be one ours talks to, and an
    // exclusive socket (PAIR) must have a peer slot free (taken now, for the pipe
    // connection_up() makes). On refusal, `reason` is what the peer is told (ZMTP ERROR)
    // and `detail` what our monitor reports.
    errc admit(const peer_properties& peer, std::string& reason, std::string& detail) noexcept;
    // The part of admit() that needs nothing of the peer (the slot), for a connection to ask
    // before it answers the greeting, so that a refused peer is told in place of READY and
    // never thinks itself connected. admit() then finds the slot taken already.
    errc admit_any(std::string& reason, std::string& detail) noexcept;
    // admit() looks at the routing id the peer's READY names (a ROUTER without
    // router_handover). The accepting side then sends its READY only once admit() passed
    // (RFC 37's order), so a refused peer is told in place of it and never thinks itself
    // connected. Otherwise both READYs cross, as libzmq sends them, and each side learns the
    // other's socket type even when the types do not match.
    bool admits_by_routing_id() const noexcept;
    // Its handshake succeeded. Returns the pipe end it moves messages through (made and
    // attached now, or the one kept from before), or nullptr when it must close (the
    // session is over, or out of memory). `drain_by` is set when the socket already
    // closed (or the endpoint stopped): deliver what is queued until then, then close.
    // `reconnected`: the pipe is kept from an earlier connection (the socket is told with a
    // hiccup, and answers what it must tell again behind a reset marker).
    pipe* connection_up(connection& c, peer_properties peer, std::shared_ptr<channel> ch,
                        clock::time_point& drain_by, bool& reconnected) noexcept;
    // It closed (whether it got up or not): `why` and `detail` say why, for a retry's
    // monitor event. The session may end here (then the owner hears session_ended()).
    void connection_down(connection& c, std::error_code why, std::string detail) noexcept;

    // ---- the endpoint's side ----
    // unbind / disconnect (stop_reason::endpoint): a connection not past its handshake
    // closes; the socket closes the pipe of one that is, which decides the rest. At
    // context end: a connection past its handshake delivers what is queued within the
    // socket's linger (context_shutdown: not at all), then the session ends; without one
    // it ends now, dropping what is queued, and it never connects again.
    void stop(stop_reason why) noexcept;
    // The endpoint gives up (reconnect_ivl -1 and the connection is lost): end now.
    void end() noexcept;
    // True while the session wants a connection: it is not over, and it is not lingering
    // with nothing left to deliver.
    bool wants_connection() noexcept;
    const std::shared_ptr<const endpoint_info>& info() const noexcept { return info_; }
    bool connect_side() const noexcept { return connect_; }

    void on_io(std::uint32_t) noexcept override {}
    void on_pipe_event(event_kind kind, pipe& p) noexcept override;

private:
    // Makes the pipe pair and attaches the socket's end, with what is known of the peer.
    bool open_pipe(peer_properties peer) noexcept;
    // Closes our end (what arrived stays readable for the socket) and gives back the peer slot.
    void close_pipe() noexcept;
    // The socket closed its end, or the endpoint stopped at context end: deliver what is
    // queued until `deadline` (over the current connection, or one still to come).
    void linger(clock::time_point deadline) noexcept;
    // Something is queued, there is time left, and a connection may still come.
    bool draining() noexcept;
    // Ends the session: no more connections; the live one closes, then complete().
    void finish() noexcept;
    // Closes the pipe, tells the owner, retires us.
    void complete() noexcept;

    reactor& reactor_;
    std::shared_ptr<const endpoint_info> info_;
    session_owner& owner_;
    const bool connect_;
    bool pipe_per_connection_;       // ROUTER, a PAIR's connect while it has a peer: a pipe per handshake
    pipe* pipe_ = nullptr;           // our end; the socket owns the other
    std::shared_ptr<channel_slot> channel_ = std::make_shared<channel_slot>();
    connection* connection_ = nullptr;
    bool up_ = false;                // connection_ is past its handshake
    bool slot_ = false;              // holds one of the socket's peer slots (socket_shared)
    bool had_connection_ = false;    // a connection was up on pipe_ before
    bool stopped_ = false;           // the endpoint stopped
    bool lingering_ = false;         // the socket closed its end, or the context ends
    bool context_ending_ = false;    // no connection comes any more: deliver over this one or drop
    bool ended_ = false;             // finish() ran
    bool completed_ = false;         // complete() ran
    clock::time_point deadline_ = clock::time_point::max(); // lingering: deliver until then
    reactor::timer_id deadline_timer_;
};

// The one place sessions are made, on the socket's thread (connect) or the reactor's
// (accept). A connect's session attaches its pipe to the socket before this returns, so
// the socket can queue at once. The caller has the reactor adopt it. Throws std::bad_alloc.
std::shared_ptr<session> make_session(reactor& r, std::shared_ptr<const endpoint_info> info, session_owner& owner,
                                      bool connect);

} // namespace volley::detail
