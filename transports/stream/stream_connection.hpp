// SPDX-License-Identifier: MPL-2.0
// A stream connection: the connection driver on a stream wire, the one place
// where a tcp or ipc descriptor becomes a ZMTP connection (for an accept and
// a connect alike; stream_connection.cpp instantiates the driver).
#pragma once

#include "driver/driver.hpp"
#include "stream_wire.hpp"

namespace volley::detail {

using stream_connection = driver<stream_wire>;
extern template class driver<stream_wire>;

} // namespace volley::detail
