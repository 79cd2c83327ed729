// SPDX-License-Identifier: MPL-2.0
// Socket-type and transport registries, filled once with the built-ins.
#include "registry.hpp"

#include "mailbox.hpp"
#include "pipe.hpp"

#include <array>
#include <mutex>

namespace volley::detail {
namespace {

constexpr std::size_t type_count = static_cast<std::size_t>(socket_type::router) + 1;

struct registries {
    std::mutex mutex;
    std::array<socket_factory, type_count> sockets{};
    std::vector<transport::transport_factory> transports;
};

registries& raw() {
    static registries r;
    return r;
}

registries& filled() {
    static std::once_flag once;
    std::call_once(once, [] {
        register_builtin_patterns();
        register_builtin_transports();
    });
    return raw();
}

} // namespace

void register_socket_type(socket_type type, socket_factory factory) {
    auto& r = raw();
    std::lock_guard lock(r.mutex);
    r.sockets[static_cast<std::size_t>(type)] = factory;
}

socket_factory find_socket_type(socket_type type) {
    if (static_cast<std::size_t>(type) >= type_count) return nullptr; // not a socket type at all
    auto& r = filled();
    std::lock_guard lock(r.mutex);
    return r.sockets[static_cast<std::size_t>(type)];
}

std::vector<transport::transport_factory> transport_factories() {
    auto& r = filled();
    std::lock_guard lock(r.mutex);
    return r.transports;
}

bool compatible(socket_type a, socket_type b) noexcept {
    using st = socket_type;
    switch (a) {
    case st::pair: return b == st::pair;
    case st::push: return b == st::pull;
    case st::pull: return b == st::push;
    case st::pub:
    case st::xpub: return b == st::sub || b == st::xsub;
    case st::sub:
    case st::xsub: return b == st::pub || b == st::xpub;
    case st::req: return b == st::rep || b == st::router;
    case st::rep: return b == st::req || b == st::dealer;
    case st::dealer: return b == st::rep || b == st::dealer || b == st::router;
    case st::router: return b == st::req || b == st::dealer || b == st::router;
    }
    return false;
}

} // namespace volley::detail

namespace volley::transport {

void register_transport(transport_factory factory) {
    auto& r = detail::raw();
    std::lock_guard lock(r.mutex);
    r.transports.push_back(factory);
}

void attach_pipe(const std::shared_ptr<detail::mailbox>& owner, detail::pipe& p, std::uint64_t endpoint_id,
                 std::shared_ptr<const detail::attachment> attached) {
    p.set_owner(owner);
    owner->post({detail::event_kind::attach, &p, endpoint_id, std::move(attached)});
}

} // namespace volley::transport

namespace volley {

std::string_view to_string(socket_type t) noexcept {
    switch (t) {
    case socket_type::pair: return "PAIR";
    case socket_type::push: return "PUSH";
    case socket_type::pull: return "PULL";
    case socket_type::pub: return "PUB";
    case socket_type::sub: return "SUB";
    case socket_type::xpub: return "XPUB";
    case socket_type::xsub: return "XSUB";
    case socket_type::req: return "REQ";
    case socket_type::rep: return "REP";
    case socket_type::dealer: return "DEALER";
    case socket_type::router: return "ROUTER";
    }
    return "?";
}

} // namespace volley
