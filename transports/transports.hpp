// SPDX-License-Identifier: MPL-2.0
// Factories of the built-in transports; each transport folder defines one,
// and register.cpp hands them to the core's registry.
#pragma once

#include "transport.hpp"

namespace volley::detail {

std::unique_ptr<volley::transport::transport> make_inproc_transport(context_core& ctx);
std::unique_ptr<volley::transport::transport> make_tcp_transport(context_core& ctx);
std::unique_ptr<volley::transport::transport> make_ipc_transport(context_core& ctx);
#ifdef VOLLEY_HAVE_RDMA
std::unique_ptr<volley::transport::transport> make_rdma_transport(context_core& ctx);
#endif

} // namespace volley::detail
