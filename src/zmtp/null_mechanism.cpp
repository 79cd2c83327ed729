// SPDX-License-Identifier: MPL-2.0
// The NULL mechanism (ZeroMQ RFC 37): no security; one READY each way. Both
// sides send theirs at once, as libzmq does, unless the server (the accepting
// side) answers: then its READY waits for the client's, which RFC 37's order
// allows and every client follows, and the session admits the peer that READY
// named before it goes (an ERROR in its place otherwise). See mechanism.hpp.
#include "zmtp/mechanism.hpp"

#include "peer_text.hpp"

namespace volley::zmtp {
namespace {

class null_mechanism final : public mechanism {
public:
    null_mechanism(socket_type type, const std::string* routing_id, bool answers)
        : type_(type), routing_id_(routing_id != nullptr ? *routing_id : std::string()),
          send_identity_(routing_id != nullptr), answers_(answers) {}

    std::string_view name() const noexcept override { return "NULL"; }
    bool as_server() const noexcept override { return false; }

    void start(std::vector<message>& out) override {
        if (!answers_) out.push_back(ready());
    }

    step on_command(const command& c, std::vector<message>& out, properties& peer, std::string& reason) override {
        if (c.name != "READY") {
            reason = "expected READY, got " + detail::quote_peer(c.name);
            return step::fail;
        }
        if (auto why = parse_properties(c.data, peer); !why.empty()) {
            reason = std::move(why);
            return step::fail;
        }
        if (answers_) out.push_back(ready());
        return step::done;
    }

private:
    message ready() const { return make_ready(type_, send_identity_ ? &routing_id_ : nullptr); }

    socket_type type_;
    std::string routing_id_;
    bool send_identity_;
    bool answers_;
};

} // namespace

std::unique_ptr<mechanism> make_null_mechanism(socket_type type, const std::string* routing_id, bool answers) {
    return std::make_unique<null_mechanism>(type, routing_id, answers);
}

} // namespace volley::zmtp
