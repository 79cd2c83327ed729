// SPDX-License-Identifier: MPL-2.0
// The transports volley has, handed to the core's registry.
#include "registry.hpp"
#include "transports.hpp"

namespace volley::detail {

void register_builtin_transports() {
    volley::transport::register_transport(&make_inproc_transport);
    volley::transport::register_transport(&make_tcp_transport);
    volley::transport::register_transport(&make_ipc_transport);
#ifdef VOLLEY_HAVE_RDMA
    volley::transport::register_transport(&make_rdma_transport);
#endif
}

} // namespace volley::detail
