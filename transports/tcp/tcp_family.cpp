// SPDX-License-Identifier: MPL-2.0
// tcp://host:port. Addresses: an IPv4 or bracketed IPv6 literal, a host
// name (resolved with getaddrinfo, IPv4 only unless the ipv6 option is set),
// "*" for every interface or an interface name ("eth0") when binding; the port may be "*" (or 0) when
// binding, for an ephemeral port that last_endpoint() reports. Connections
// get TCP_NODELAY and the tcp_keepalive options.
#include "stream/stream_family.hpp"
#include "transports.hpp"

#include "stream/stream_transport.hpp"

#include <arpa/inet.h>
#include <cstring>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace volley::detail {
namespace {

void set_port(resolved_address& a, int port) noexcept {
    if (a.family() == AF_INET6)
        reinterpret_cast<sockaddr_in6*>(&a.storage)->sin6_port = htons(static_cast<std::uint16_t>(port));
    else
        reinterpret_cast<sockaddr_in*>(&a.storage)->sin_port = htons(static_cast<std::uint16_t>(port));
}

// The address of the network interface called `name` (as libzmq binds "tcp://eth0:*"): its
// IPv4 address, or with `ipv6` its IPv6 one when it has no IPv4 address. False if no
// interface has that name.
bool interface_address(const std::string& name, bool ipv6, resolved_address& out) {
    ifaddrs* all = nullptr;
    if (::getifaddrs(&all) != 0) return false;
    const ifaddrs* v4 = nullptr;
    const ifaddrs* v6 = nullptr;
    for (const ifaddrs* i = all; i != nullptr; i = i->ifa_next) {
        if (i->ifa_addr == nullptr || name != i->ifa_name) continue;
        if (i->ifa_addr->sa_family == AF_INET && v4 == nullptr) v4 = i;
        if (i->ifa_addr->sa_family == AF_INET6 && v6 == nullptr) v6 = i;
    }
    const ifaddrs* pick = v4 != nullptr ? v4 : (ipv6 ? v6 : nullptr);
    if (pick != nullptr) {
        out = {};
        out.length = pick->ifa_addr->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
        std::memcpy(&out.storage, pick->ifa_addr, out.length);
    }
    ::freeifaddrs(all);
    return pick != nullptr;
}

class tcp_family final : public stream_family {
public:
    explicit tcp_family(std::string_view scheme) : scheme_(scheme) {}
    std::string_view scheme() const noexcept override { return scheme_; }

    std::error_code resolve(std::string_view address, bool for_bind, const socket_options& o,
                            resolved_address& out, std::string& why) const override {
        const auto invalid = [&why](std::string reason) {
            return endpoint_error(why, errc::invalid_endpoint, std::move(reason));
        };
        const auto colon = address.rfind(':');
        if (colon == std::string_view::npos || colon + 1 == address.size())
            return invalid("no port: " + scheme_ + "://<host>:<port>" + std::string(for_bind ? " (or :* for any)" : ""));
        if (colon == 0)
            return invalid("no host: " + scheme_ + "://<host>:<port>" + std::string(for_bind ? " (or *:<port>)" : ""));
        std::string host(address.substr(0, colon));
        const std::string_view port_text = address.substr(colon + 1);
        int port = 0;
        if (port_text == "*") {
            if (!for_bind) return invalid("a connect needs a port, not '*'");
        } else {
            for (char c : port_text) {
                if (c < '0' || c > '9') return invalid("the port '" + std::string(port_text) + "' is not a number");
            }
            port = port_text.size() > 5 ? 65536 : std::stoi(std::string(port_text));
            if (port > 65535 || (port == 0 && !for_bind))
                return invalid("the port " + std::string(port_text) + " is out of range " + (for_bind ? "0" : "1") +
                               "-65535");
        }
        bool bracketed = false;
        if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
            host = host.substr(1, host.size() - 2);
            bracketed = true;
        } else if (host.find_first_of("[]:") != std::string::npos) {
            return invalid("the host '" + host + "' is not one: an IPv6 address goes in brackets, [::1]");
        }
        out = {};
        if (host == "*") {
            if (!for_bind) return invalid("a connect needs a host, not '*'");
            if (o.ipv6) {
                auto* a6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
                a6->sin6_family = AF_INET6;
                a6->sin6_addr = in6addr_any;
                out.length = sizeof(sockaddr_in6);
            } else {
                auto* a4 = reinterpret_cast<sockaddr_in*>(&out.storage);
                a4->sin_family = AF_INET;
                a4->sin_addr.s_addr = htonl(INADDR_ANY);
                out.length = sizeof(sockaddr_in);
            }
            set_port(out, port);
            return {};
        }
        if (for_bind && !bracketed && interface_address(host, o.ipv6, out)) { // "tcp://eth0:5555"
            set_port(out, port);
            return {};
        }
        addrinfo hints{};
        hints.ai_family = bracketed ? AF_INET6 : (o.ipv6 ? AF_UNSPEC : AF_INET);
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_NUMERICSERV | (for_bind ? AI_PASSIVE : 0);
        if (bracketed) hints.ai_flags |= AI_NUMERICHOST;
        addrinfo* res = nullptr;
        const std::string service = std::to_string(port);
        if (const int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0 || res == nullptr) {
            if (bracketed) return invalid("'" + host + "' is not an IPv6 address");
            const std::string cause = rc != 0 ? ::gai_strerror(rc) : "no address";
            return endpoint_error(why, errc::cannot_resolve, "cannot resolve host '" + host + "': " + cause);
        }
        std::memcpy(&out.storage, res->ai_addr, res->ai_addrlen);
        out.length = static_cast<socklen_t>(res->ai_addrlen);
        ::freeaddrinfo(res);
        return {};
    }

    std::string to_uri(const resolved_address& a) const override {
        char text[INET6_ADDRSTRLEN] = {};
        if (a.family() == AF_INET6) {
            const auto* a6 = reinterpret_cast<const sockaddr_in6*>(&a.storage);
            ::inet_ntop(AF_INET6, &a6->sin6_addr, text, sizeof text);
            return scheme_ + "://[" + std::string(text) + "]:" + std::to_string(ntohs(a6->sin6_port));
        }
        const auto* a4 = reinterpret_cast<const sockaddr_in*>(&a.storage);
        ::inet_ntop(AF_INET, &a4->sin_addr, text, sizeof text);
        return scheme_ + "://" + std::string(text) + ":" + std::to_string(ntohs(a4->sin_port));
    }

    void tune(int fd, const socket_options& o) const noexcept override {
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (o.tcp_keepalive != -1) {
            const int on = o.tcp_keepalive;
            ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
        }
        if (o.tcp_keepalive == 1) {
            if (o.tcp_keepalive_idle != -1)
                ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &o.tcp_keepalive_idle, sizeof o.tcp_keepalive_idle);
            if (o.tcp_keepalive_cnt != -1)
                ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &o.tcp_keepalive_cnt, sizeof o.tcp_keepalive_cnt);
            if (o.tcp_keepalive_intvl != -1)
                ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &o.tcp_keepalive_intvl, sizeof o.tcp_keepalive_intvl);
        }
    }

    std::error_code prepare_bind(const resolved_address&, std::string&) const override { return {}; }
    void after_close(const resolved_address&) const noexcept override {}

private:
    std::string scheme_;
};

} // namespace

std::unique_ptr<stream_family> make_ip_family(std::string_view scheme) {
    return std::make_unique<tcp_family>(scheme);
}

std::unique_ptr<volley::transport::transport> make_tcp_transport(context_core& ctx) {
    return make_stream_transport(ctx, make_ip_family("tcp"));
}

} // namespace volley::detail
