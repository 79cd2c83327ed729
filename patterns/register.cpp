// SPDX-License-Identifier: MPL-2.0
// The socket types volley has, handed to the core's registry.
#include "patterns.hpp"
#include "registry.hpp"

namespace volley::detail {

void register_builtin_patterns() {
    register_socket_type(socket_type::pair, &make_pair);
    register_socket_type(socket_type::push, &make_push);
    register_socket_type(socket_type::pull, &make_pull);
    register_socket_type(socket_type::req, &make_req);
    register_socket_type(socket_type::rep, &make_rep);
    register_socket_type(socket_type::dealer, &make_dealer);
    register_socket_type(socket_type::router, &make_router);
    register_socket_type(socket_type::pub, &make_pub);
    register_socket_type(socket_type::sub, &make_sub);
    register_socket_type(socket_type::xpub, &make_xpub);
    register_socket_type(socket_type::xsub, &make_xsub);
}

} // namespace volley::detail
