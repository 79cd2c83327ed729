// SPDX-License-Identifier: MPL-2.0
// An rdma:// connection: the connection driver on an rdma wire (the frame
// channel, rdma_wire.hpp), under the same session as a tcp connection.
// rdma_connection.cpp instantiates the driver.
#pragma once

#include "driver/driver.hpp"
#include "rdma_wire.hpp"

namespace volley::detail {

using rdma_connection = driver<rdma_wire>;
extern template class driver<rdma_wire>;

} // namespace volley::detail
