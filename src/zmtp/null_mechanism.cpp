// SPDX-License-Identifier: MPL-2.0
// The NULL mechanism (ZeroMQ RFC 37): no security; one READY each way, each
// peer sending its own without waiting for the other's. See mechanism.hpp.
#include "zmtp/mechanism.hpp"

#include "peer_text.hpp"

namespace volley::zmtp {
namespace {

class null_mechanism final : public mechanism {
public:
    null_mechanism(socket_type type, const std::string* routing_id)
        : type_(type), routing_id_(routing_id != nullptr ? *routing_id : std::string()),
          send_identity_(routing_id != nullptr) {}

    std::string_view name() const noexcept override { return "NULL"; }
    bool as_server() const noexcept override { return false; }

    void start(std::vector<message>& out) override {
        out.push_back(make_ready(type_, send_identity_ ? &routing_id_ : nullptr));
    }

    step on_command(const command& c, std::vector<message>&, properties& peer, std::string& reason) override {
        if (c.name != "READY") {
            reason = "expected READY, got " + detail::quote_peer(c.name);
            return step::fail;
        }
        if (auto why = parse_properties(c.data, peer); !why.empty()) {
            reason = std::move(why);
            return step::fail;
        }
        return step::done;
    }

private:
    socket_type type_;
    std::string routing_id_;
    bool send_identity_;
};

} // namespace

std::unique_ptr<mechanism> make_null_mechanism(socket_type type, const std::string* routing_id) {
    return std::make_unique<null_mechanism>(type, routing_id);
}

} // namespace volley::zmtp
