// SPDX-License-Identifier: MPL-2.0
// context_core: transports per context, live sockets, shutdown.
#include "context_core.hpp"

#include "fence.hpp"
#include "registry.hpp"
#include "socket_base.hpp"

namespace volley::detail {

context_core::context_core() {
    init_fences();
    for (auto factory : transport_factories()) transports_.push_back(factory(*this));
}

context_core::~context_core() {
    join_io();
}

transport::transport* context_core::find_transport(std::string_view scheme) const noexcept {
    for (const auto& t : transports_) {
        if (t->scheme() == scheme) return t.get();
    }
    return nullptr;
}

std::string context_core::transport_schemes() const {
    std::string list;
    for (const auto& t : transports_) list += (list.empty() ? "" : ", ") + std::string(t->scheme());
    return list;
}

void context_core::add_socket(socket_base* s) {
    std::lock_guard lock(mutex_);
    if (shut_down_.load(std::memory_order_relaxed))
        throw std::system_error(make_error_code(errc::terminated), "volley: socket created after context shutdown");
    sockets_.insert(s);
}

void context_core::remove_socket(socket_base* s) noexcept {
    std::lock_guard lock(mutex_);
    sockets_.erase(s);
}

void context_core::shutdown(bool drop_queued) noexcept {
    {
        std::lock_guard lock(mutex_);
        if (shut_down_.exchange(true, std::memory_order_acq_rel)) return;
        for (socket_base* s : sockets_) s->terminate();
    }
    for (auto& t : transports_) t->shutdown(drop_queued);
}

void context_core::join_io() noexcept {
    reactor* r;
    {
        std::lock_guard lock(io_mutex_);
        r = io_.get();
    }
    if (r != nullptr) r->stop(); // io_ lives until our destructor: safe outside the lock
}

reactor& context_core::io() {
    std::lock_guard lock(io_mutex_);
    if (!io_) {
        io_ = std::make_unique<reactor>();
        io_ready_.store(true, std::memory_order_release);
    }
    return *io_;
}

} // namespace volley::detail
