// SPDX-License-Identifier: MPL-2.0
// What a socket learns about the other end of a new connection when its
// pipe is attached: the peer's socket type, its routing id and the metadata
// it announced (ZMTP READY properties; for inproc, the other socket's
// options), plus the connection's channel, through which the socket's own
// thread may drive the connection instead of waiting for the I/O thread.
#pragma once

#include <volley/socket.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace volley::detail {

class channel_slot;

struct peer_properties {
    socket_type type = socket_type::pair;
    // The peer's routing id (READY's Identity, or the inproc peer's routing_id option);
    // empty when it announced none.
    std::string routing_id;
    // Other properties, as (name, value), in the order they came.
    std::vector<std::pair<std::string, std::string>> metadata;
    // False for a pipe attached before its connection's handshake (a connect whose peer is
    // not known yet): the fields above are then empty.
    bool known = false;
};

// Handed to the socket with a new pipe (the attach event). Immutable once posted.
struct attachment {
    peer_properties peer;
    std::shared_ptr<channel_slot> channel; // null: the pipe is all there is (inproc)
};

} // namespace volley::detail
