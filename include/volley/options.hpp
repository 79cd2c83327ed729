// SPDX-License-Identifier: MPL-2.0
// Typed socket options. Each option is a tag object in volley::opt whose
// value_type is the C++ type it takes, so a wrong type fails to compile:
//     sock.set(volley::opt::sndhwm, 100);
//     sock.set(volley::opt::linger, std::chrono::milliseconds(0));
//     auto hwm = sock.get(volley::opt::rcvhwm);
#pragma once

#include <chrono>
#include <string>

namespace volley {

/// A duration option set to this means "no limit" (wait forever, linger forever).
inline constexpr std::chrono::milliseconds infinite{-1};

namespace detail {
enum class option_id { sndhwm, rcvhwm, linger, sndtimeo, rcvtimeo, routing_id };
}

namespace opt {

/// An option tag: `T` is the value type, `Id` the option it names.
template <class T, detail::option_id Id>
struct option {
    using value_type = T;
    static constexpr detail::option_id id = Id;
};

/// Send high-water mark, in whole messages per peer (default 1000; 0 = no limit).
/// At the mark, send blocks (or fails with would_block / timed_out). Applies to
/// connections made after it is set.
inline constexpr option<int, detail::option_id::sndhwm> sndhwm{};
/// Receive high-water mark, in whole messages per peer (default 1000; 0 = no limit).
inline constexpr option<int, detail::option_id::rcvhwm> rcvhwm{};
/// How long messages still queued when the socket closes may be delivered
/// (default 30 s; 0 drops them at once; volley::infinite waits without limit).
inline constexpr option<std::chrono::milliseconds, detail::option_id::linger> linger{};
/// How long a blocking send may wait (default volley::infinite; 0 = never wait).
inline constexpr option<std::chrono::milliseconds, detail::option_id::sndtimeo> sndtimeo{};
/// How long a blocking recv may wait (default volley::infinite; 0 = never wait).
inline constexpr option<std::chrono::milliseconds, detail::option_id::rcvtimeo> rcvtimeo{};
/// The identity this socket announces to peers: 1 to 255 bytes, not starting
/// with a zero byte (those are reserved for generated ids); empty means none.
inline constexpr option<std::string, detail::option_id::routing_id> routing_id{};

} // namespace opt
} // namespace volley
