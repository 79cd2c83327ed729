// SPDX-License-Identifier: MPL-2.0
// Factories of the pattern sockets; each pattern file defines one, and
// register.cpp hands them to the core's registry.
#pragma once

#include "socket_base.hpp"

#include <memory>

namespace volley::detail {

std::unique_ptr<socket_base> make_pair(context_core& ctx, socket_type type);
std::unique_ptr<socket_base> make_push(context_core& ctx, socket_type type);
std::unique_ptr<socket_base> make_pull(context_core& ctx, socket_type type);
std::unique_ptr<socket_base> make_req(context_core& ctx, socket_type type);
std::unique_ptr<socket_base> make_rep(context_core& ctx, socket_type type);
std::unique_ptr<socket_base> make_dealer(context_core& ctx, socket_type type);
std::unique_ptr<socket_base> make_router(context_core& ctx, socket_type type);
std::unique_ptr<socket_base> make_pub(context_core& ctx, socket_type type);
std::unique_ptr<socket_base> make_sub(context_core& ctx, socket_type type);
std::unique_ptr<socket_base> make_xpub(context_core& ctx, socket_type type);
std::unique_ptr<socket_base> make_xsub(context_core& ctx, socket_type type);

} // namespace volley::detail
