// SPDX-License-Identifier: MPL-2.0
// The connection driver, instantiated for the rdma frame channel. See rdma_connection.hpp.
#include "rdma_connection.hpp"

#include "driver/driver_impl.hpp"

namespace volley::detail {

template class driver<rdma_wire>;

} // namespace volley::detail
