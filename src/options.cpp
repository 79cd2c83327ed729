// SPDX-License-Identifier: MPL-2.0
// Validation of socket option values.
#include "options.hpp"

#include <limits>

namespace volley::detail {

namespace {

// Typed access to one field for set/get: the field's pointer and its range check.
template <class T>
struct field {
    T socket_options::*member;
    bool (*valid)(const T&);
};

bool never(const int&) { return false; }
bool non_negative(const int& v) { return v >= 0; }
bool tristate(const int& v) { return v >= -1 && v <= 1; }
bool minus_one_or_more(const int& v) { return v >= -1; }
bool buffer_size(const int& v) { return v == -1 || v > 0; }
// Deadlines (linger, timeouts) may be any length: deadline_after() saturates. Intervals that
// arm reactor timers stay within libzmq's int range, so that doubling one cannot overflow.
constexpr long long max_interval_ms = std::numeric_limits<int>::max();
bool duration_or_infinite(const std::chrono::milliseconds& v) { return v.count() >= -1; }
bool interval_or_infinite(const std::chrono::milliseconds& v) { return v.count() >= -1 && v.count() <= max_interval_ms; }
bool interval(const std::chrono::milliseconds& v) { return v.count() >= 0 && v.count() <= max_interval_ms; }
bool ttl_range(const std::chrono::milliseconds& v) { return v.count() >= 0 && v.count() <= 6'553'599; }
bool size_or_unlimited(const std::int64_t& v) { return v >= -1; }
bool any_bool(const bool&) { return true; }
bool routing_id_rule(const std::string& v) { return v.size() <= 255 && (v.empty() || v[0] != '\0'); }
bool any_string(const std::string&) { return true; }

template <class T>
std::error_code store(socket_options& o, const option_value& value, field<T> f) noexcept {
    const T* v = std::get_if<T>(&value);
    if (v == nullptr || !f.valid(*v)) return errc::invalid_argument;
    try {
        o.*f.member = *v;
    } catch (...) {
        return std::make_error_code(std::errc::not_enough_memory);
    }
    return {};
}

// Visits the field for `id` with `fn(field<T>)`.
template <class Fn>
auto with_field(option_id id, Fn&& fn) {
    using o = socket_options;
    using ms = std::chrono::milliseconds;
    switch (id) {
    case option_id::sndhwm: return fn(field<int>{&o::sndhwm, non_negative});
    case option_id::rcvhwm: return fn(field<int>{&o::rcvhwm, non_negative});
    case option_id::linger: return fn(field<ms>{&o::linger, duration_or_infinite});
    case option_id::sndtimeo: return fn(field<ms>{&o::sndtimeo, duration_or_infinite});
    case option_id::rcvtimeo: return fn(field<ms>{&o::rcvtimeo, duration_or_infinite});
    case option_id::routing_id: return fn(field<std::string>{&o::routing_id, routing_id_rule});
    case option_id::reconnect_ivl: return fn(field<ms>{&o::reconnect_ivl, interval_or_infinite});
    case option_id::reconnect_ivl_max: return fn(field<ms>{&o::reconnect_ivl_max, interval});
    case option_id::handshake_ivl: return fn(field<ms>{&o::handshake_ivl, interval});
    case option_id::maxmsgsize: return fn(field<std::int64_t>{&o::maxmsgsize, size_or_unlimited});
    case option_id::heartbeat_ivl: return fn(field<ms>{&o::heartbeat_ivl, interval});
    case option_id::heartbeat_timeout: return fn(field<ms>{&o::heartbeat_timeout, interval});
    case option_id::heartbeat_ttl: return fn(field<ms>{&o::heartbeat_ttl, ttl_range});
    case option_id::tcp_keepalive: return fn(field<int>{&o::tcp_keepalive, tristate});
    case option_id::tcp_keepalive_idle: return fn(field<int>{&o::tcp_keepalive_idle, minus_one_or_more});
    case option_id::tcp_keepalive_cnt: return fn(field<int>{&o::tcp_keepalive_cnt, minus_one_or_more});
    case option_id::tcp_keepalive_intvl: return fn(field<int>{&o::tcp_keepalive_intvl, minus_one_or_more});
    case option_id::ipv6: return fn(field<bool>{&o::ipv6, any_bool});
    case option_id::sndbuf: return fn(field<int>{&o::sndbuf, buffer_size});
    case option_id::rcvbuf: return fn(field<int>{&o::rcvbuf, buffer_size});
    case option_id::input_budget: return fn(field<std::int64_t>{&o::input_budget, size_or_unlimited});
    case option_id::subscribe: return fn(field<std::string>{&o::subscribe, any_string});
    case option_id::unsubscribe: return fn(field<std::string>{&o::unsubscribe, any_string});
    case option_id::xpub_verbose: return fn(field<bool>{&o::xpub_verbose, any_bool});
    case option_id::req_relaxed: return fn(field<bool>{&o::req_relaxed, any_bool});
    case option_id::req_correlate: return fn(field<bool>{&o::req_correlate, any_bool});
    case option_id::req_resend_ivl: return fn(field<ms>{&o::req_resend_ivl, interval});
    case option_id::router_mandatory: return fn(field<bool>{&o::router_mandatory, any_bool});
    case option_id::router_handover: return fn(field<bool>{&o::router_handover, any_bool});
    case option_id::connect_routing_id: return fn(field<std::string>{&o::connect_routing_id, routing_id_rule});
    }
    return fn(field<int>{&o::sndhwm, never}); // unreachable (every id is listed); set() refuses
}

} // namespace

std::error_code socket_options::set(option_id id, const option_value& value) noexcept {
    return with_field(id, [&](auto f) { return store(*this, value, f); });
}

option_value socket_options::get(option_id id) const {
    return with_field(id, [&](auto f) { return option_value(this->*f.member); });
}

} // namespace volley::detail
