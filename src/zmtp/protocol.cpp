// SPDX-License-Identifier: MPL-2.0
// ZMTP above the framing: greeting check, handshake through the mechanism,
// commands. See protocol.hpp; the NULL mechanism is in null_mechanism.cpp.
#include "zmtp/protocol.hpp"

#include "peer_text.hpp"
#include "registry.hpp"

namespace volley::zmtp {

std::string error_reason(std::span<const std::byte> error_data) {
    const auto reason = parse_error(error_data);
    return reason ? detail::quote_peer(*reason, 120) : "(malformed ERROR)"; // meant for people: quote more
}

protocol::protocol(socket_type type, std::unique_ptr<mechanism> m) : type_(type), mechanism_(std::move(m)) {}

std::string protocol::check_greeting(const greeting& g) {
    if (g.mechanism != mechanism_->name())
        return "the peer wants the " + detail::quote_peer(g.mechanism) + " security mechanism; this socket uses " +
               std::string(mechanism_->name());
    peer_minor_ = g.major > 3 ? 1 : g.minor;
    return {};
}

void protocol::start(std::vector<message>& out) {
    mechanism_->start(out);
}

protocol::step protocol::handshake_frame(const message& body, bool command, std::vector<message>& out,
                                         detail::peer_properties& peer, errc& code, std::string& reason) noexcept {
    code = errc::protocol_error;
    if (!command) {
        reason = "the peer sent a message before READY";
        return step::fail;
    }
    const auto cmd = parse_command(body);
    if (!cmd) {
        reason = "malformed command during the handshake";
        return step::fail;
    }
    try {
        if (cmd->name == "ERROR") {
            reason = "the peer refused the handshake: " + error_reason(cmd->data);
            return step::fail;
        }
        properties props;
        switch (mechanism_->on_command(*cmd, out, props, reason)) {
        case mechanism::step::more: return step::more;
        case mechanism::step::fail: return step::fail;
        case mechanism::step::done: break;
        }
        const std::string* type_name = find_property(props, "Socket-Type");
        if (type_name == nullptr) {
            reason = "READY without a Socket-Type";
            return step::fail;
        }
        const auto peer_type = socket_type_from_name(*type_name);
        if (!peer_type) {
            reason = "unknown peer socket type " + detail::quote_peer(*type_name);
            return step::fail;
        }
        peer.type = *peer_type; // type_name is not used below: the loop moves from props
        for (auto& [name, value] : props) {
            if (same_property_name(name, "Identity"))
                peer.routing_id = std::move(value);
            else if (!same_property_name(name, "Socket-Type"))
                peer.metadata.emplace_back(std::move(name), std::move(value));
        }
    } catch (const std::bad_alloc&) {
        reason = "out of memory in the handshake";
        return step::fail;
    }
    return step::done;
}

protocol::command_result protocol::on_command(message& body, bool mid_message) noexcept {
    command_result r;
    const auto cmd = parse_command(body);
    if (!cmd) {
        r.what = action::fail;
        r.reason = "malformed command";
        return r;
    }
    try {
        if (cmd->name == "SUBSCRIBE" || cmd->name == "CANCEL") {
            if (!detail::accepts_subscriptions(type_)) return r; // ignored as an unknown command
            if (mid_message) {
                r.what = action::fail;
                r.reason = "the peer sent " + std::string(cmd->name) + " in the middle of a message";
                return r;
            }
            message topic(cmd->data.data(), cmd->data.size());
            topic.set_control(cmd->name == "SUBSCRIBE" ? message::control::subscribe : message::control::cancel);
            body = std::move(topic);
            r.what = action::deliver;
            return r;
        }
        if (cmd->name == "PING") {
            const auto p = parse_ping(cmd->data);
            if (!p) {
                r.what = action::fail;
                r.reason = "malformed PING";
                return r;
            }
            r.ttl = std::chrono::milliseconds(p->ttl_deciseconds * 100);
            r.what = action::ping;
            r.pong = make_pong(p->context);
            return r;
        }
        if (cmd->name == "ERROR") {
            r.what = action::fail;
            r.reason = "the peer sent ERROR: " + error_reason(cmd->data);
        }
    } catch (const std::bad_alloc&) {
        if (r.what == action::ping) return r; // no PONG this time; the peer will ask again
        r.what = action::fail;
        r.reason = "out of memory reading a command";
    }
    return r;
}

bool protocol::outgoing(message& m, bool& command) {
    const auto c = m.control_kind();
    if (c == message::control::reset) { // never on the wire
        awaiting_reset_ = false;
        return false;
    }
    if (awaiting_reset_) return false; // queued for the lost connection: the socket resends it
    const bool subscribe = c == message::control::subscribe;
    command = peer_has_commands();
    m = command ? make_subscription(subscribe, m.view()) : make_subscription_message(subscribe, m.view());
    return true;
}

} // namespace volley::zmtp
