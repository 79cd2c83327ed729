// SPDX-License-Identifier: MPL-2.0
// volley::socket, the public face of socket_base: error-code and throwing
// overloads, multipart helpers.
#include <volley/socket.hpp>

#include "context_core.hpp"
#include "registry.hpp"
#include "socket_base.hpp"
#include "uri.hpp"

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

// "volley: bind 'tcp://127.0.0.1:99999': the port 99999 is out of range 0-65535: malformed
// endpoint URI" (what() appends the code's message).
void socket::throw_if(const std::error_code& ec, std::string_view what, std::string_view uri, std::string_view why) {
    if (!ec) return;
    std::string text = "volley: " + std::string(what);
    if (!uri.empty()) text += " '" + std::string(uri) + "'";
    if (!why.empty()) text += ": " + std::string(why);
    throw std::system_error(ec, text);
}

namespace {

// An endpoint call of socket_base's; `why` gets the reason of a failure.
template <class Call>
std::error_code endpoint_call(detail::socket_base* impl, std::string& why, Call call) noexcept {
    try {
        if (impl == nullptr) return detail::endpoint_error(why, errc::closed, "the socket is closed");
        return call(*impl);
    } catch (const std::bad_alloc&) {
        return std::make_error_code(std::errc::not_enough_memory); // no room for a reason either
    }
}

} // namespace

// One shape for the four endpoint calls: the error_code form, and the throwing form whose
// exception names the cause.
#define VOLLEY_ENDPOINT_CALL(name)                                                                                     \
    void socket::name(std::string_view uri, std::error_code& ec) noexcept {                                           \
        std::string why;                                                                                               \
        ec = endpoint_call(impl_.get(), why, [&](detail::socket_base& s) { return s.name(uri, why); });               \
    }                                                                                                                  \
    void socket::name(std::string_view uri) {                                                                          \
        std::string why;                                                                                               \
        const auto ec = endpoint_call(impl_.get(), why, [&](detail::socket_base& s) { return s.name(uri, why); });    \
        throw_if(ec, #name, uri, why);                                                                                 \
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

void socket::set_option(detail::option_id id, const detail::option_value& v, std::error_code& ec,
                        std::string& why) noexcept {
    ec = impl_ ? impl_->set_option(id, v, why) : make_error_code(errc::closed);
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
