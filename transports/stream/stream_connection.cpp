// SPDX-License-Identifier: MPL-2.0
// The connection driver, instantiated for byte streams. See stream_connection.hpp.
#include "stream_connection.hpp"

#include "driver/driver_impl.hpp"

namespace volley::detail {

template class driver<stream_wire>;

} // namespace volley::detail
