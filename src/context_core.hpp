// SPDX-License-Identifier: MPL-2.0
// context_core: the shared state of a volley::context. Sockets hold it by
// shared_ptr, so it outlives the context object while any socket lives.
// It owns one instance of every registered transport and the list of live
// sockets that shutdown() must wake.
#pragma once

#include "crowding.hpp"
#include "reactor.hpp"
#include "transport.hpp"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace volley::detail {

class socket_base;

class context_core : public std::enable_shared_from_this<context_core> {
public:
    context_core();
    ~context_core();
    context_core(const context_core&) = delete;
    context_core& operator=(const context_core&) = delete;

    // The transport for `scheme`, or nullptr. Thread-safe.
    transport::transport* find_transport(std::string_view scheme) const noexcept;
    // The schemes there are, "inproc, ipc, tcp" (for an error naming an unknown one).
    std::string transport_schemes() const;

    // Registry of live sockets. Thread-safe. add_socket throws std::system_error
    // (errc::terminated) after shutdown.
    void add_socket(socket_base* s);
    void remove_socket(socket_base* s) noexcept;

    // Terminates every live socket (and every socket created later), and stops every
    // transport's endpoints: `drop_queued` (context::shutdown()) closes every connection
    // now; otherwise (the destructor) connected peers get what is queued within linger
    // (transport::shutdown). The first call decides. Thread-safe.
    void shutdown(bool drop_queued) noexcept;
    // Waits until connections have finished lingering, then stops the I/O thread.
    void join_io() noexcept;

    // The I/O thread, started on first use. Thread-safe.
    reactor& io();
    bool io_started() const noexcept { return io_ready_.load(std::memory_order_acquire); }
    bool is_shut_down() const noexcept { return shut_down_.load(std::memory_order_acquire); }

    // Whether the I/O thread should do all the connections' I/O (crowding.hpp).
    crowding& crowd() noexcept { return crowd_; }

private:
    std::vector<std::unique_ptr<transport::transport>> transports_;
    std::mutex mutex_;
    std::unordered_set<socket_base*> sockets_;
    std::atomic<bool> shut_down_{false};
    std::mutex io_mutex_;
    std::unique_ptr<reactor> io_;
    std::atomic<bool> io_ready_{false};
    crowding crowd_{crowding::available_cpus()};
};

} // namespace volley::detail
