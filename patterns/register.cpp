// SPDX-License-Identifier: MPL-2.0
// The socket types volley has, handed to the core's registry.
#include "patterns.hpp"
#include "registry.hpp"

namespace volley::detail {

void register_builtin_patterns() {
    register_socket_type(socket_type::pair, &make_pair);
    register_socket_type(socket_type::push, &make_push);
    register_socket_type(socket_type::pull, &make_pull);
}

} // namespace volley::detail
