// SPDX-License-Identifier: MPL-2.0
// connector: what one attempt to connect is on a stream transport (tcp, ipc), under the
// transport-neutral dialer (dialer.hpp), which owns the session and reconnects with
// back-off. An attempt resolves the host name again (on the reactor thread, blocking, as
// libzmq's I/O thread does; a name may move), connects without blocking, and hands the
// connected descriptor to a stream connection under the dialer's session.
#pragma once

#include "dialer.hpp"
#include "stream/stream_family.hpp"

#include <optional>
#include <string>

namespace volley::detail {

class connector final : public dialer {
public:
    // `address`: the endpoint after "<scheme>://", resolved again before each attempt after
    // the first; `peer`: what it resolved to at connect(), if it did. Makes its session
    // (and with it the socket's pipe) at once: call on the socket's thread, then start()
    // on the reactor's. Throws std::bad_alloc.
    connector(reactor& r, const stream_family& family, std::string address, std::optional<resolved_address> peer,
              std::shared_ptr<const endpoint_info> info);
    ~connector() override;

    // The connect in progress completed (EPOLLOUT).
    void on_io(std::uint32_t events) noexcept override;

private:
    void attempt() noexcept override;
    void abandon() noexcept override;
    void connected() noexcept;

    const stream_family& family_;
    std::string address_;
    std::optional<resolved_address> peer_; // empty: resolve before the next attempt
    int fd_ = -1;                          // a connect in progress
};

} // namespace volley::detail
