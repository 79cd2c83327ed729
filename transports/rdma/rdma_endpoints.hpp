// SPDX-License-Identifier: MPL-2.0
// The endpoints of rdma://: a listener (a bound rdma_cm id that accepts) and
// a connector (one connect attempt at a time under the core's dialer, which
// reconnects with back-off). Both exchange the volley hello in the rdma_cm
// private data (rdma_hello.hpp): a peer without one, or with one this side
// cannot serve, is refused with the reason, which both monitors report. Once
// the CM says ESTABLISHED, the link goes to an rdma wire under a connection
// driver and a session, as a tcp descriptor does.
//
// Reactor thread, except the constructors.
#pragma once

#include "dialer.hpp"
#include "rdma_link.hpp"
#include "session.hpp"
#include "stream/stream_family.hpp"

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

namespace volley::detail {

// The eager buffers every rdma:// connection has (8 KiB each, 16 each way: 256 KiB).
rdma_buffers rdma_default_buffers() noexcept;

// Destroys `l` once the reactor's current batch of events is over (it may still name the
// link's descriptors), or at once if that cannot be arranged.
void retire_link(reactor& r, std::unique_ptr<rdma_link> l) noexcept;

class rdma_listener final : public io_handler, public rdma_link_target, public session_owner {
public:
    rdma_listener(reactor& r, std::unique_ptr<rdma_link> listening, std::shared_ptr<const endpoint_info> info);
    ~rdma_listener() override;

    std::error_code start() noexcept;
    void stop(stop_reason why) noexcept;

    void on_io(std::uint32_t) noexcept override {}
    void on_cm_event(rdma_link& l, rdma_cm_note& n) noexcept override;
    void connection_lost(session&, bool, std::error_code, std::string) noexcept override {}
    void session_ended(session& s) noexcept override;

private:
    struct pending {
        std::unique_ptr<rdma_link> link;
        rdma_hello peer;
    };
    void on_request(rdma_cm_note& n) noexcept;
    void on_established(rdma_link& l) noexcept;
    void refuse(const std::string& why, errc code) noexcept;
    void retire_if_done() noexcept;

    reactor& reactor_;
    std::unique_ptr<rdma_link> listening_;
    std::shared_ptr<const endpoint_info> info_;
    std::unordered_map<rdma_link*, pending> pending_; // accepted, not yet established
    std::unordered_set<session*> sessions_;
    bool stopped_ = false;
};

class rdma_connector final : public dialer, public rdma_link_target {
public:
    rdma_connector(reactor& r, const stream_family& addressing, std::string address,
                   std::shared_ptr<const endpoint_info> info);
    ~rdma_connector() override;

    void on_io(std::uint32_t) noexcept override {}
    void on_cm_event(rdma_link& l, rdma_cm_note& n) noexcept override;

private:
    void attempt() noexcept override;
    void abandon() noexcept override;
    void failed(std::error_code why, std::string detail) noexcept;
    void established(rdma_cm_note& n) noexcept;

    const stream_family& addressing_;
    std::string address_;
    std::unique_ptr<rdma_link> link_; // the attempt in progress
};

// Our hello for a connection of `info`'s socket.
rdma_hello make_hello(const endpoint_info& info, const rdma_buffers& b, std::uint8_t reads) noexcept;

} // namespace volley::detail
