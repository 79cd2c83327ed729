// SPDX-License-Identifier: MPL-2.0
// The transport that every byte-stream family (tcp, ipc) shares: bind and
// connect on the socket's thread (so errors and the resolved address come
// back at once), then a listener or connector on the context's reactor,
// each connection served by the one stream connection (stream_connection.hpp).
#pragma once

#include "stream/stream_family.hpp"
#include "transport.hpp"

#include <memory>

namespace volley::detail {

class context_core;

std::unique_ptr<volley::transport::transport> make_stream_transport(context_core& ctx,
                                                                    std::unique_ptr<stream_family> family);

} // namespace volley::detail
