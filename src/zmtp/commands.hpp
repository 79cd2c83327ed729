// SPDX-License-Identifier: MPL-2.0
// Building and parsing ZMTP command bodies (READY, ERROR, PING, PONG) and
// READY's property list. See wire.hpp for the layouts. Parsing never trusts
// a length: every field is checked against what is left.
#pragma once

#include <volley/message.hpp>
#include <volley/socket.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace volley::zmtp {

struct command {
    std::string_view name;          // "READY", "PING", ...
    std::span<const std::byte> data; // what follows the name
};

// Splits a command frame's body into name and data; nullopt when malformed.
std::optional<command> parse_command(const message& body) noexcept;

using properties = std::vector<std::pair<std::string, std::string>>;

// The body of READY: Socket-Type, and Identity when given.
message make_ready(socket_type type, const std::string* identity);
// Parses READY's property list; returns the reason it is malformed, or an empty string.
std::string parse_properties(std::span<const std::byte> data, properties& out);
// True when property names `a` and `b` are the same (they are case-insensitive).
bool same_property_name(std::string_view a, std::string_view b) noexcept;
// The value of property `name` (case-insensitive), or nullptr.
const std::string* find_property(const properties& props, std::string_view name) noexcept;

message make_error(std::string_view reason);
// ERROR's reason, or nullopt when malformed.
std::optional<std::string> parse_error(std::span<const std::byte> data);

// PING with a TTL in deciseconds (0 = none) and up to 16 bytes of context.
message make_ping(std::uint16_t ttl_deciseconds, std::span<const std::byte> context);
struct ping {
    std::uint16_t ttl_deciseconds;
    std::span<const std::byte> context;
};
std::optional<ping> parse_ping(std::span<const std::byte> data) noexcept;
message make_pong(std::span<const std::byte> context);

// SUBSCRIBE / CANCEL (ZMTP 3.1): the command body for `topic`.
message make_subscription(bool subscribe, std::string_view topic);
// The same for a ZMTP 3.0 peer: a message of 0x01 (subscribe) or 0x00 (cancel) then the topic.
message make_subscription_message(bool subscribe, std::string_view topic);

// Socket type from READY's Socket-Type value ("PAIR", ...), or nullopt.
std::optional<socket_type> socket_type_from_name(std::string_view name) noexcept;

} // namespace volley::zmtp
