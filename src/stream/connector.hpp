// SPDX-License-Identifier: MPL-2.0
// connector: a connected stream endpoint on a reactor. It owns the engine
// side of the socket's pipe from connect() on, so messages sent before the
// connection is up (or while it is down) queue in the pipe up to the
// high-water mark; each connection's engine borrows the pipe end and hands
// it back when the connection ends. Failed or lost connections are retried
// after reconnect_ivl, doubling up to reconnect_ivl_max, with jitter; host
// names are resolved again for every retry (on the reactor thread, blocking,
// as libzmq's I/O thread does).
#pragma once

#include "reactor.hpp"
#include "stream/stream_family.hpp"
#include "zmtp/engine.hpp"

#include <memory>
#include <optional>
#include <random>

namespace volley::detail {

class connector final : public io_handler, public engine_owner, public pipe_handler {
public:
    // `address`: the endpoint after "<scheme>://", resolved again before each attempt after
    // the first; `peer`: what it resolved to at connect(), if it did. `pipe_end`: the engine
    // side of the socket's pipe; its reference passes to the connector.
    connector(reactor& r, const stream_family& family, std::string address, std::optional<resolved_address> peer,
              std::shared_ptr<const session_info> info, pipe* pipe_end);
    ~connector() override;

    // Reactor thread.
    void start();
    // Stops reconnecting. At context end (`context_end`) a live connection flushes within
    // the socket's linger and closes; on disconnect it ends with the pipe, which the
    // socket closes with its linger.
    void stop(bool context_end) noexcept;

    void on_io(std::uint32_t events) noexcept override;
    void engine_closed(engine& e, bool established, std::error_code why) noexcept override;
    void on_pipe_event(event_kind kind, pipe& p) noexcept override;

private:
    void attempt() noexcept;
    void connected() noexcept;
    void retry(std::error_code why, std::string detail) noexcept;
    void finish() noexcept;
    void abandon_attempt() noexcept;
    // Stopped (or the socket closed) with messages still queued, time left to send them,
    // and a connection that may still come.
    bool draining() noexcept;
    // Lowers the deadline for delivering what is queued, and finishes us then if no
    // connection is up by that time.
    void set_give_up(clock::time_point deadline) noexcept;

    reactor& reactor_;
    const stream_family& family_;
    std::string address_;
    std::optional<resolved_address> peer_; // empty: resolve before the next attempt
    std::shared_ptr<const session_info> info_;
    pipe* pipe_;
    int fd_ = -1;       // a connect in progress
    engine* engine_ = nullptr;
    reactor::timer_id retry_timer_;
    reactor::timer_id give_up_timer_;
    std::chrono::milliseconds next_ivl_;
    clock::time_point give_up_ = clock::time_point::max(); // the socket closed: deliver until then
    bool stopped_ = false;
    std::minstd_rand jitter_;
};

} // namespace volley::detail
