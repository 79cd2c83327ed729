// SPDX-License-Identifier: MPL-2.0
// Stream transports: endpoints of tcp and ipc. See stream_transport.hpp.
#include "stream/stream_transport.hpp"

#include "context_core.hpp"
#include "monitor_queue.hpp"
#include "pipe.hpp"
#include "stream/connector.hpp"
#include "stream/listener.hpp"

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <optional>
#include <sys/socket.h>
#include <unistd.h>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace volley::detail {
namespace {

namespace vt = volley::transport;

constexpr int listen_backlog = 100;

std::error_code from_errno(int err) noexcept {
    if (err == EADDRINUSE) return errc::address_in_use;
    return {err, std::system_category()};
}

std::shared_ptr<const endpoint_info> make_info(const vt::endpoint_owner& o, std::string endpoint) {
    return std::make_shared<const endpoint_info>(
        endpoint_info{o.type, o.options, o.mailbox, o.monitor, o.shared, o.endpoint_id, std::move(endpoint)});
}

class stream_transport;

// The socket's handle: destroying it stops the endpoint on the reactor, and waits for that.
class stream_handle final : public vt::endpoint_handle {
public:
    stream_handle(std::shared_ptr<stream_transport> t, std::uint64_t id, std::string uri)
        : transport_(std::move(t)), id_(id), uri_(std::move(uri)) {}
    ~stream_handle() override;
    std::string resolved_uri() const override { return uri_; }

private:
    std::shared_ptr<stream_transport> transport_;
    std::uint64_t id_;
    std::string uri_;
};

class stream_transport final : public vt::transport, public std::enable_shared_from_this<stream_transport> {
public:
    stream_transport(context_core& ctx, std::unique_ptr<stream_family> family)
        : ctx_(ctx), family_(std::move(family)) {}

    std::string_view scheme() const noexcept override { return family_->scheme(); }
    vt::caps capabilities() const noexcept override { return vt::caps::byte_stream; }

    std::unique_ptr<vt::endpoint_handle> listen(const endpoint& at, const vt::endpoint_owner& owner,
                                                std::error_code& ec, std::string& why) override {
        resolved_address addr;
        if ((ec = family_->resolve(at.address, true, owner.options, addr, why))) return nullptr;
        if ((ec = family_->prepare_bind(addr, why))) return nullptr;
        const int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            ec = endpoint_error(why, from_errno(errno), "socket() failed");
            return nullptr;
        }
        if (addr.family() != AF_UNIX) {
            const int one = 1;
            ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            // IPv6 only unless the ipv6 option asks for both: said explicitly, as libzmq does,
            // so net.ipv6.bindv6only cannot shut IPv4 clients out of "tcp://*" with ipv6 set.
            if (addr.family() == AF_INET6) {
                const int v6only = owner.options.ipv6 ? 0 : 1;
                ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only);
            }
        }
        // The code's own message (what() appends it) says why: the words here say which call.
        const bool bound_ok = ::bind(fd, addr.get(), addr.length) == 0;
        if (!bound_ok || ::listen(fd, listen_backlog) != 0) {
            const int e = errno;
            ec = endpoint_error(why, from_errno(e),
                                e == EADDRINUSE ? "the address is in use" : bound_ok ? "listen() failed" : "bind() failed");
            ::close(fd);
            return nullptr;
        }
        resolved_address bound;
        bound.length = sizeof bound.storage;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&bound.storage), &bound.length) != 0 ||
            addr.family() == AF_UNIX)
            bound = addr; // unix sockets report less than we bound
        std::string uri = family_->to_uri(bound);
        auto info = make_info(owner, uri);
        reactor& r = ctx_.io();
        auto self = shared_from_this();
        const auto id = owner.endpoint_id;
        // Synchronous, so that a listener the reactor cannot watch fails bind() itself.
        std::error_code started = make_error_code(std::errc::not_enough_memory);
        bool owned = false; // the listener took fd (and closes it)
        const bool ran = r.run_sync([&] {
            try {
                auto l = std::make_shared<listener>(r, *self->family_, fd, bound, info);
                owned = true;
                if ((started = l->start())) return;
                r.adopt(l);
                self->endpoints_.emplace(id, l);
            } catch (const std::bad_alloc&) {
                started = make_error_code(std::errc::not_enough_memory);
            }
        });
        if (!ran || started) {
            if (!owned) ::close(fd);
            family_->after_close(bound);
            ec = endpoint_error(why, ran ? started : make_error_code(errc::terminated),
                                ran ? "the I/O thread cannot watch the listening socket" : "the context was shut down");
            return nullptr;
        }
        return std::make_unique<stream_handle>(self, id, std::move(uri));
    }

    std::unique_ptr<vt::endpoint_handle> dial(const endpoint& to, const vt::endpoint_owner& owner,
                                              std::error_code& ec, std::string& why) override {
        // A host name that does not resolve yet is not an error (as in libzmq): the connector
        // resolves again before every attempt, which also follows a name that moves.
        resolved_address addr;
        ec = family_->resolve(to.address, false, owner.options, addr, why);
        const bool resolved = !ec;
        if (ec == errc::cannot_resolve)
            ec = {};
        else if (ec)
            return nullptr;
        std::string uri = to.uri; // as given, as libzmq reports a connect's endpoint
        auto info = make_info(owner, uri);
        reactor& r = ctx_.io();
        // Its session attaches the socket's pipe now: what the socket sends queues until the
        // connection is up.
        auto c = std::make_shared<connector>(r, *family_, to.address, resolved ? std::optional(addr) : std::nullopt,
                                             info);
        auto self = shared_from_this();
        const auto id = owner.endpoint_id;
        // Synchronous too: out of memory (the only way this fails) reaches connect() itself.
        bool started = false;
        const bool ran = r.run_sync([&] {
            try {
                r.adopt(c);
                self->endpoints_.emplace(id, c);
                c->start(); // a failed attempt is retried, like a refused one
                started = true;
            } catch (const std::bad_alloc&) { // the reactor retires what it adopted when it stops
            }
        });
        if (!ran || !started) {
            const auto code = ran ? make_error_code(std::errc::not_enough_memory) : make_error_code(errc::terminated);
            ec = endpoint_error(why, code, ran ? "out of memory starting the connect" : "the context was shut down");
            return nullptr;
        }
        return std::make_unique<stream_handle>(self, id, std::move(uri));
    }

    void shutdown(bool drop_queued) noexcept override {
        if (!ctx_.io_started()) return;
        auto self = shared_from_this();
        const auto why = drop_queued ? stop_reason::context_shutdown : stop_reason::context_end;
        // Posting fails only out of memory, when nothing better can be done: then the
        // endpoints stop when the reactor does.
        (void)ctx_.io().post([self, why] {
            auto all = std::move(self->endpoints_);
            self->endpoints_.clear();
            for (auto& [id, ep] : all) self->stop_endpoint(ep, why);
            for (const auto& weak : std::exchange(self->stopped_, {})) {
                if (auto ep = lock(weak)) self->stop_endpoint(*ep, why);
            }
        });
    }

    // Reactor thread: the socket dropped its handle.
    void stop(std::uint64_t id) {
        auto it = endpoints_.find(id);
        if (it == endpoints_.end()) return;
        auto ep = it->second;
        endpoints_.erase(it);
        stop_endpoint(ep, stop_reason::endpoint);
        // It may linger (a connect delivering its queue): the context's end must reach it.
        std::erase_if(stopped_, [](const weak_endpoint& w) { return !lock(w); });
        std::visit([this](const auto& e) { stopped_.emplace_back(std::weak_ptr(e)); }, ep);
    }

    context_core& ctx_;

private:
    // Shared with the reactor: an endpoint may finish on its own (a connector whose pipe
    // the socket dropped) and be retired there; this entry keeps it valid until the
    // socket removes the endpoint, and stopping a finished one does nothing.
    using live_endpoint = std::variant<std::shared_ptr<listener>, std::shared_ptr<connector>>;

    using weak_endpoint = std::variant<std::weak_ptr<listener>, std::weak_ptr<connector>>;
    static std::optional<live_endpoint> lock(const weak_endpoint& w) {
        return std::visit([](const auto& p) -> std::optional<live_endpoint> {
            if (auto e = p.lock()) return live_endpoint(std::move(e));
            return std::nullopt;
        }, w);
    }

    static void stop_endpoint(const live_endpoint& ep, stop_reason why) noexcept {
        std::visit([why](const auto& e) { e->stop(why); }, ep);
    }

    std::unique_ptr<stream_family> family_;
    std::unordered_map<std::uint64_t, live_endpoint> endpoints_; // reactor thread only
    std::vector<weak_endpoint> stopped_; // stopped by their socket, maybe still lingering; reactor thread only
};

stream_handle::~stream_handle() {
    // Synchronous: once unbind() or close() returns, the listening descriptor is closed and
    // an ipc file removed, so the address can be bound again at once. (The reactor never
    // waits for the socket's thread, so this cannot deadlock; if the reactor has already
    // ended, context shutdown stopped every endpoint.)
    auto t = transport_;
    const auto id = id_;
    if (t->ctx_.io_started()) t->ctx_.io().run_sync([&t, id] { t->stop(id); });
}

} // namespace

void prepare_connection(const stream_family& family, int fd, const socket_options& o) noexcept {
    const int send = o.sndbuf != -1 ? o.sndbuf : family.default_send_buffer();
    if (send != -1) ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &send, sizeof send);
    if (o.rcvbuf != -1) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &o.rcvbuf, sizeof o.rcvbuf);
    family.tune(fd, o);
}

std::unique_ptr<volley::transport::transport> make_stream_transport(context_core& ctx,
                                                                    std::unique_ptr<stream_family> family) {
    // Shared, so that handles and reactor tasks can outlive the registry's reference.
    struct holder final : vt::transport {
        std::shared_ptr<stream_transport> impl;
        std::string_view scheme() const noexcept override { return impl->scheme(); }
        vt::caps capabilities() const noexcept override { return impl->capabilities(); }
        std::unique_ptr<vt::endpoint_handle> listen(const endpoint& at, const vt::endpoint_owner& owner,
                                                    std::error_code& ec, std::string& why) override {
            return impl->listen(at, owner, ec, why);
        }
        std::unique_ptr<vt::endpoint_handle> dial(const endpoint& to, const vt::endpoint_owner& owner,
                                                  std::error_code& ec, std::string& why) override {
            return impl->dial(to, owner, ec, why);
        }
        void shutdown(bool drop_queued) noexcept override { impl->shutdown(drop_queued); }
    };
    auto h = std::make_unique<holder>();
    h->impl = std::make_shared<stream_transport>(ctx, std::move(family));
    return h;
}

} // namespace volley::detail
