// SPDX-License-Identifier: MPL-2.0
// rdma://host:port: bind and connect through librdmacm, on the socket's
// thread for what can fail at once (the address, no RDMA device, a bind the
// CM refuses), then a listener or connector on the context's reactor
// (rdma_endpoints.hpp). Addresses are tcp's (an IPv4 or bracketed IPv6
// address of an RDMA-capable interface, "*" and ":*" when binding).
#include "context_core.hpp"
#include "monitor_queue.hpp"
#include "rdma_endpoints.hpp"
#include "transports.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <unordered_map>
#include <variant>
#include <vector>

namespace volley::detail {
namespace {

namespace vt = volley::transport;

constexpr int listen_backlog = 128;

std::shared_ptr<const endpoint_info> make_info(const vt::endpoint_owner& o, std::string endpoint) {
    return std::make_shared<const endpoint_info>(
        endpoint_info{o.type, o.options, o.mailbox, o.monitor, o.shared, o.endpoint_id, std::move(endpoint)});
}

class rdma_transport;

class rdma_handle final : public vt::endpoint_handle {
public:
    rdma_handle(std::shared_ptr<rdma_transport> t, std::uint64_t id, std::string uri)
        : transport_(std::move(t)), id_(id), uri_(std::move(uri)) {}
    ~rdma_handle() override;
    std::string resolved_uri() const override { return uri_; }

private:
    std::shared_ptr<rdma_transport> transport_;
    std::uint64_t id_;
    std::string uri_;
};

class rdma_transport final : public vt::transport, public std::enable_shared_from_this<rdma_transport> {
public:
    explicit rdma_transport(context_core& ctx) : ctx_(ctx), addressing_(make_ip_family("rdma")) {}

    std::string_view scheme() const noexcept override { return "rdma"; }
    vt::caps capabilities() const noexcept override { return vt::caps::message | vt::caps::polled; }

    std::unique_ptr<vt::endpoint_handle> listen(const endpoint& at, const vt::endpoint_owner& owner,
                                                std::error_code& ec, std::string& why) override {
        resolved_address addr;
        if ((ec = addressing_->resolve(at.address, true, owner.options, addr, why))) return nullptr;
        reactor& r = ctx_.io();
        auto link = rdma_link::create(r, ec, why);
        if (!link) {
            ec = endpoint_error(why, ec, why);
            return nullptr;
        }
        if (rdma_bind_addr(link->id(), const_cast<sockaddr*>(addr.get())) != 0) {
            const int e = errno;
            ec = endpoint_error(why, e == EADDRINUSE ? make_error_code(errc::address_in_use)
                                                     : std::error_code(e, std::system_category()),
                                e == EADDRINUSE ? "the address is in use"
                                : e == ENODEV || e == EADDRNOTAVAIL
                                    ? "bind failed: the address is not on an RDMA device"
                                    : std::string("rdma_bind_addr failed"));
            return nullptr;
        }
        if (rdma_listen(link->id(), listen_backlog) != 0) {
            const int e = errno;
            ec = endpoint_error(why, e == EADDRINUSE ? make_error_code(errc::address_in_use)
                                                     : std::error_code(e, std::system_category()),
                                e == EADDRINUSE ? "the address is in use" : "rdma_listen failed");
            return nullptr;
        }
        resolved_address bound = addr;
        const std::uint16_t port = ntohs(rdma_get_src_port(link->id()));
        if (bound.family() == AF_INET6)
            reinterpret_cast<sockaddr_in6*>(&bound.storage)->sin6_port = htons(port);
        else
            reinterpret_cast<sockaddr_in*>(&bound.storage)->sin_port = htons(port);
        std::string uri = addressing_->to_uri(bound);
        auto info = make_info(owner, uri);
        auto self = shared_from_this();
        const auto id = owner.endpoint_id;
        std::error_code started = make_error_code(std::errc::not_enough_memory);
        const bool ran = r.run_sync([&] {
            try {
                auto l = std::make_shared<rdma_listener>(r, std::move(link), info);
                if ((started = l->start())) return;
                r.adopt(l);
                self->endpoints_.emplace(id, l);
            } catch (const std::bad_alloc&) {
                started = make_error_code(std::errc::not_enough_memory);
            }
        });
        if (!ran || started) {
            ec = endpoint_error(why, ran ? started : make_error_code(errc::terminated),
                                ran ? "the I/O thread cannot watch the rdma_cm channel" : "the context was shut down");
            return nullptr;
        }
        return std::make_unique<rdma_handle>(self, id, std::move(uri));
    }

    std::unique_ptr<vt::endpoint_handle> dial(const endpoint& to, const vt::endpoint_owner& owner,
                                              std::error_code& ec, std::string& why) override {
        resolved_address addr;
        ec = addressing_->resolve(to.address, false, owner.options, addr, why);
        if (ec && ec != errc::cannot_resolve) return nullptr;
        ec = {};
        { // No RDMA here at all: say so now, rather than retrying for ever.
            auto probe = rdma_link::create(ctx_.io(), ec, why);
            if (!probe) {
                ec = endpoint_error(why, ec, why);
                return nullptr;
            }
        }
        std::string uri = to.uri;
        auto info = make_info(owner, uri);
        reactor& r = ctx_.io();
        auto c = std::make_shared<rdma_connector>(r, *addressing_, to.address, info);
        auto self = shared_from_this();
        const auto id = owner.endpoint_id;
        bool started = false;
        const bool ran = r.run_sync([&] {
            try {
                r.adopt(c);
                self->endpoints_.emplace(id, c);
                c->start();
                started = true;
            } catch (const std::bad_alloc&) {
            }
        });
        if (!ran || !started) {
            const auto code = ran ? make_error_code(std::errc::not_enough_memory) : make_error_code(errc::terminated);
            ec = endpoint_error(why, code, ran ? "out of memory starting the connect" : "the context was shut down");
            return nullptr;
        }
        return std::make_unique<rdma_handle>(self, id, std::move(uri));
    }

    void shutdown(bool drop_queued) noexcept override {
        if (!ctx_.io_started()) return;
        auto self = shared_from_this();
        const auto why = drop_queued ? stop_reason::context_shutdown : stop_reason::context_end;
        (void)ctx_.io().post([self, why] {
            auto all = std::move(self->endpoints_);
            self->endpoints_.clear();
            for (auto& [id, ep] : all) stop_endpoint(ep, why);
            for (const auto& weak : std::exchange(self->stopped_, {})) {
                if (auto ep = lock(weak)) stop_endpoint(*ep, why);
            }
        });
    }

    void stop(std::uint64_t id) {
        auto it = endpoints_.find(id);
        if (it == endpoints_.end()) return;
        auto ep = it->second;
        endpoints_.erase(it);
        stop_endpoint(ep, stop_reason::endpoint);
        std::erase_if(stopped_, [](const weak_endpoint& w) { return !lock(w); });
        std::visit([this](const auto& e) { stopped_.emplace_back(std::weak_ptr(e)); }, ep);
    }

    context_core& ctx_;

private:
    using live_endpoint = std::variant<std::shared_ptr<rdma_listener>, std::shared_ptr<rdma_connector>>;
    using weak_endpoint = std::variant<std::weak_ptr<rdma_listener>, std::weak_ptr<rdma_connector>>;
    static std::optional<live_endpoint> lock(const weak_endpoint& w) {
        return std::visit([](const auto& p) -> std::optional<live_endpoint> {
            if (auto e = p.lock()) return live_endpoint(std::move(e));
            return std::nullopt;
        }, w);
    }
    static void stop_endpoint(const live_endpoint& ep, stop_reason why) noexcept {
        std::visit([why](const auto& e) { e->stop(why); }, ep);
    }

    std::unique_ptr<stream_family> addressing_;
    std::unordered_map<std::uint64_t, live_endpoint> endpoints_;
    std::vector<weak_endpoint> stopped_;
};

rdma_handle::~rdma_handle() {
    auto t = transport_;
    const auto id = id_;
    if (t->ctx_.io_started()) t->ctx_.io().run_sync([&t, id] { t->stop(id); });
}

} // namespace

std::unique_ptr<volley::transport::transport> make_rdma_transport(context_core& ctx) {
    struct holder final : vt::transport {
        std::shared_ptr<rdma_transport> impl;
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
    h->impl = std::make_shared<rdma_transport>(ctx);
    return h;
}

} // namespace volley::detail
