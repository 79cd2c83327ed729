// SPDX-License-Identifier: MPL-2.0
// Registries that let the core create sockets and transports without
// naming them: the patterns and transports layers register themselves
// through register_builtin_patterns() / register_builtin_transports(),
// which the core declares and those layers define (nng's pattern: a list of
// init functions, not static constructors a linker may drop).
#pragma once

#include "transport.hpp"

#include <memory>
#include <vector>

namespace volley::detail {

class socket_base;
class context_core;

using socket_factory = std::unique_ptr<socket_base> (*)(context_core& ctx, socket_type type);

// Registers the factory for one socket type.
void register_socket_type(socket_type type, socket_factory factory);
// The factory for `type`, or nullptr when volley has none.
socket_factory find_socket_type(socket_type type);
// Every registered transport factory.
std::vector<transport::transport_factory> transport_factories();

// Defined by the patterns layer and the transports layer respectively.
void register_builtin_patterns();
void register_builtin_transports();

// True when a socket of type `a` may talk to a peer of type `b`.
bool compatible(socket_type a, socket_type b) noexcept;
// True when a socket of type `t` takes subscriptions from its peers (PUB, XPUB).
constexpr bool accepts_subscriptions(socket_type t) noexcept {
    return t == socket_type::pub || t == socket_type::xpub;
}

} // namespace volley::detail
