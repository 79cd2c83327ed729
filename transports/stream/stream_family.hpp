// SPDX-License-Identifier: MPL-2.0
// What a byte-stream transport (tcp, ipc) tells the core: how to read its
// addresses, how to set up its sockets, what to clean up. The core does the
// rest once for all of them: listening, accepting, connecting, reconnecting,
// and the one stream connection (libzmq's single zmtp_engine site, rather than
// nng's per-transport header code).
#pragma once

#include "options.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <system_error>

namespace volley::detail {

struct resolved_address {
    sockaddr_storage storage{};
    socklen_t length = 0;
    const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
    int family() const noexcept { return storage.ss_family; }
};

class stream_family;

// Sets up a new connection's descriptor: the kernel buffers (the options, or the family's
// defaults), then the family's own tuning. Never fails the connection: a refused setting
// leaves the kernel's value.
void prepare_connection(const stream_family& family, int fd, const socket_options& o) noexcept;

class stream_family {
public:
    virtual ~stream_family() = default;
    virtual std::string_view scheme() const noexcept = 0;
    // Parses (and, for host names, resolves: may block) the part of an endpoint after
    // "<scheme>://". errc::invalid_endpoint for bad syntax, cannot_resolve for a name that
    // does not resolve; `why` names the cause. Called on the socket's thread (bind,
    // connect) and on the reactor's (a connector resolving again before each attempt).
    virtual std::error_code resolve(std::string_view address, bool for_bind, const socket_options& o,
                                    resolved_address& out, std::string& why) const = 0;
    // The endpoint URI of an address (a wildcard port filled in).
    virtual std::string to_uri(const resolved_address& a) const = 0;
    // Options for a new connection (TCP_NODELAY, keep-alive). Must not fail the connection.
    virtual void tune(int fd, const socket_options& o) const noexcept = 0;
    // SO_SNDBUF for a connection whose opt::sndbuf is -1; -1 leaves the kernel's.
    virtual int default_send_buffer() const noexcept { return -1; }
    // Before bind: clear what a dead process left behind (ipc: a stale socket file).
    virtual std::error_code prepare_bind(const resolved_address& a, std::string& why) const = 0;
    // After the listening socket is closed (ipc: remove its file).
    virtual void after_close(const resolved_address& a) const noexcept = 0;
};

// tcp's addressing (host:port, "*", interface names; see tcp_family.cpp) under another
// scheme's name: rdma:// addresses are IP addresses too.
std::unique_ptr<stream_family> make_ip_family(std::string_view scheme);

} // namespace volley::detail
