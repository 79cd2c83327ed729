// SPDX-License-Identifier: MPL-2.0
// volley::socket, the public face of socket_base: error-code and throwing
// overloads, multipart helpers.
#include <volley/socket.hpp>

#include "context_core.hpp"
#include "registry.hpp"
#include "socket_base.hpp"

#include <new>

namespace volley {

socket::socket(context& ctx, socket_type type) {
    if (!ctx.core()) throw std::system_error(make_error_code(errc::terminated), "volley: socket on a moved-from context");
    auto factory = detail::find_socket_type(type);
    if (factory == nullptr)
        throw std::system_error(make_error_code(errc::not_supported),
                                "volley: socket type " + std::string(to_string(type)) + " is not implemented");
    impl_ = factory(*ctx.core(), type);
}

socket::~socket() {
    close();
}

socket::socket(socket&&) noexcept = default;

socket& socket::operator=(socket&& other) noexcept {
    if (this != &other) {
        close();
        impl_ = std::move(other.impl_);
    }
    return *this;
}

void socket::close() noexcept {
    if (!impl_) return;
    impl_->close();
    impl_.reset();
}

void socket::throw_if(const std::error_code& ec, std::string_view what, std::string_view uri) {
    if (!ec) return;
    std::string text = "volley: " + std::string(what);
    if (!uri.empty()) text += " '" + std::string(uri) + "'";
    throw std::system_error(ec, text);
}

// One macro-free shape for the four endpoint calls.
#define VOLLEY_ENDPOINT_CALL(name)                                                                                     \
    void socket::name(std::string_view uri, std::error_code& ec) noexcept {                                           \
        try {                                                                                                          \
            ec = impl_ ? impl_->name(uri) : make_error_code(errc::closed);                                            \
        } catch (const std::bad_alloc&) {                                                                              \
            ec = std::make_error_code(std::errc::not_enough_memory);                                                   \
        }                                                                                                              \
    }                                                                                                                  \
    void socket::name(std::string_view uri) {                                                                          \
        std::error_code ec;                                                                                            \
        name(uri, ec);                                                                                                 \
        throw_if(ec, #name, uri);                                                                                      \
    }
VOLLEY_ENDPOINT_CALL(bind)
VOLLEY_ENDPOINT_CALL(connect)
VOLLEY_ENDPOINT_CALL(unbind)
VOLLEY_ENDPOINT_CALL(disconnect)
#undef VOLLEY_ENDPOINT_CALL

send_result socket::send(message&& m, send_flags flags) noexcept {
    if (!impl_) return errc::closed;
    m.set_more(has(flags, send_flags::more));
    return impl_->send(m, has(flags, send_flags::dontwait));
}

send_result socket::send(std::string_view data, send_flags flags) noexcept {
    return send(message(data), flags);
}

send_result socket::send(multipart&& m, send_flags flags) noexcept {
    if (!impl_) return errc::closed;
    if (m.empty()) return errc::invalid_argument;
    const bool dontwait = has(flags, send_flags::dontwait);
    const bool more_after = has(flags, send_flags::more);
    for (std::size_t i = 0; i < m.size(); ++i) {
        m[i].set_more(i + 1 < m.size() || more_after);
        // Only the first frame may wait or fail: a message let in is taken whole.
        if (errc e = impl_->send(m[i], dontwait && i == 0); e != errc{}) return e;
    }
    m.clear();
    return {};
}

recv_result socket::recv(recv_flags flags) noexcept {
    if (!impl_) return errc::closed;
    message m;
    if (errc e = impl_->recv(m, has(flags, recv_flags::dontwait)); e != errc{}) return e;
    return m;
}

recv_multipart_result socket::recv_multipart(recv_flags flags) noexcept {
    if (!impl_) return errc::closed;
    multipart parts;
    bool dontwait = has(flags, recv_flags::dontwait);
    do {
        message m;
        if (errc e = impl_->recv(m, dontwait); e != errc{}) return e;
        dontwait = true; // the rest of a message is already there
        parts.push_back(std::move(m));
    } while (parts.back().more());
    return parts;
}

void socket::set_option(detail::option_id id, const detail::option_value& v, std::error_code& ec) noexcept {
    ec = impl_ ? impl_->set_option(id, v) : make_error_code(errc::closed);
}

detail::option_value socket::get_option(detail::option_id id) const {
    if (!impl_) throw std::system_error(make_error_code(errc::closed), "volley: get option");
    return impl_->options().get(id);
}

volley::monitor socket::monitor() {
    if (!impl_) throw std::system_error(make_error_code(errc::closed), "volley: monitor");
    return volley::monitor(impl_->monitor_queue());
}

poll_events socket::events(poll_events interest) noexcept {
    return impl_ ? impl_->events(interest) : poll_events::err;
}

int socket::readiness_fd() noexcept {
    return impl_ ? impl_->readiness_fd() : -1;
}

std::vector<peer_info> socket::peers() {
    if (!impl_) throw std::system_error(make_error_code(errc::closed), "volley: peers");
    return impl_->peers();
}

std::string socket::last_endpoint() const {
    return impl_ ? impl_->last_endpoint() : std::string();
}

socket_type socket::type() const {
    if (!impl_) throw std::system_error(make_error_code(errc::closed), "volley: socket type");
    return impl_->type();
}

} // namespace volley
