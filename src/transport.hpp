// SPDX-License-Identifier: MPL-2.0
// The transport interface: the only transport type the core and the
// patterns ever see. A transport is found by the scheme of an endpoint URI;
// each context holds one instance of every registered transport (so
// per-context state, like the inproc name table, lives in the instance).
//
// A transport turns bind/connect into pipes. It hands each new pipe end to
// the socket with attach_pipe(), from whatever thread it runs on; the
// socket picks it up from its mailbox. Destroying the endpoint handle that
// listen()/dial() returned stops that endpoint (unbind / disconnect); the
// socket itself closes the pipes the endpoint made.
#pragma once

#include "options.hpp"
#include "uri.hpp"

#include <volley/socket.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace volley::detail {
class context_core;
class mailbox;
class monitor_queue;
class socket_shared;
class pipe;
struct attachment;
} // namespace volley::detail

namespace volley::transport {

using detail::endpoint;

// `polled`: the peer's data is found by polling memory, not by a system call (kernel
// bypass: rdma), so a blocked call polls longer before it sleeps (opt::busy_poll).
enum class caps : std::uint32_t { byte_stream = 1, message = 2, zero_copy = 4, remote_write = 8, polled = 16 };
constexpr caps operator|(caps a, caps b) noexcept {
    return static_cast<caps>(static_cast<std::uint32_t>(a) | static_cast<std::uint32_t>(b));
}
constexpr bool has(caps set, caps c) noexcept {
    return (static_cast<std::uint32_t>(set) & static_cast<std::uint32_t>(c)) != 0;
}

// What a transport knows of the socket that binds or connects. Valid only during
// listen()/dial(), on the socket's thread; keep copies of what is needed later.
struct endpoint_owner {
    socket_type type;
    const detail::socket_options& options;
    std::shared_ptr<detail::mailbox> mailbox;        // where attach_pipe() sends pipes
    std::shared_ptr<detail::monitor_queue> monitor;  // where events go (kept only while monitored)
    std::shared_ptr<detail::socket_shared> shared;   // what connections read of the socket live
    std::uint64_t endpoint_id;                       // tag for the pipes of this endpoint
};

// A live bound or connected endpoint. Destroying it stops the endpoint; it never
// calls back into the socket. Destroyed on the socket's thread.
class endpoint_handle {
public:
    virtual ~endpoint_handle() = default;
    // The endpoint as it was resolved (a wildcard port filled in), for last_endpoint().
    virtual std::string resolved_uri() const = 0;
};

class transport {
public:
    virtual ~transport() = default;
    virtual std::string_view scheme() const noexcept = 0; // "inproc", "tcp", ...
    virtual caps capabilities() const noexcept = 0;
    // Starts listening at `at`. Called on the socket's thread; must not block.
    // Returns nullptr and sets `ec` on failure (e.g. errc::address_in_use), and `why` to a
    // sentence naming the cause (uri.hpp's endpoint_error).
    virtual std::unique_ptr<endpoint_handle> listen(const endpoint& at, const endpoint_owner& owner,
                                                    std::error_code& ec, std::string& why) = 0;
    // Starts connecting to `to` (now, or when the peer appears). Same contract.
    virtual std::unique_ptr<endpoint_handle> dial(const endpoint& to, const endpoint_owner& owner,
                                                  std::error_code& ec, std::string& why) = 0;
    // The context ends: stop every endpoint. `drop_queued` (context::shutdown()): every
    // connection closes now and what is queued is dropped. Otherwise (the context's
    // destructor) a connection whose handshake is done delivers what is queued within its
    // socket's linger, then closes; what waits for a peer not connected now is dropped.
    // Any thread; must not block.
    virtual void shutdown(bool drop_queued) noexcept { (void)drop_queued; }
};

// Hands pipe end `p` (with the one reference the caller holds) to the socket whose
// mailbox is `owner`, tagged `endpoint_id`, with what is known of the peer and the
// connection's channel (`attached`, never null). Thread-safe. If that socket has closed,
// the end is closed at once, so the peer learns of it.
void attach_pipe(const std::shared_ptr<detail::mailbox>& owner, detail::pipe& p, std::uint64_t endpoint_id,
                 std::shared_ptr<const detail::attachment> attached);

// Makes one transport instance for a context.
using transport_factory = std::unique_ptr<transport> (*)(detail::context_core& ctx);
// Registers a transport for every context created afterwards (call at start-up).
void register_transport(transport_factory factory);

} // namespace volley::transport
