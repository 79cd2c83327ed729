// SPDX-License-Identifier: MPL-2.0
// A raw ZMTP peer for tests that must put exact bytes on the wire: a POSIX
// stream socket (tcp:// or ipc://) plus builders for the greeting, frame
// headers and the READY command. The fault tests use it to misbehave on
// purpose; the interop tests use it to play a ZMTP 3.0 peer. It is written
// from the wire facts (src/zmtp/wire.hpp, REFERENCE.md), not from volley's
// encoder, so a bug there cannot cancel itself out here. No doctest inside:
// calls report failure through their results and the test decides.
//
// Greeting (64 bytes):
//
//    0      1                  9      10     11     12                32     33        63
//   +------+------------------+------+------+------+-----------------+------+----------+
//   | 0xFF | padding (8)      | 0x7F | major| minor| mechanism (20)  | as-  | filler   |
//   |      | 0 ... 0 0x01     |      |      |      | NUL-padded      |server| 31 x 0   |
//   +------+------------------+------+------+------+-----------------+------+----------+
//
// Frame: flags(1) size(1, or 8 BE when flags has LONG) body(size)
//   flags: 0x01 MORE, 0x02 LONG, 0x04 COMMAND, bits 7..3 must be 0
// Command body: name-length(1) name data;  READY data: *(name-len(1) name value-len(4 BE) value)
#pragma once

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <netinet/in.h>
#include <memory>
#include <optional>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace raw_zmtp {

inline constexpr std::uint8_t flag_more = 0x01;
inline constexpr std::uint8_t flag_long = 0x02;
inline constexpr std::uint8_t flag_command = 0x04;

// A 64-byte greeting announcing ZMTP major.minor and `mechanism`.
inline std::string greeting(std::uint8_t major = 3, std::uint8_t minor = 1, std::string_view mechanism = "NULL") {
    std::string g(64, '\0');
    g[0] = '\xFF';
    g[8] = '\x01';
    g[9] = '\x7F';
    g[10] = static_cast<char>(major);
    g[11] = static_cast<char>(minor);
    g.replace(12, std::min<std::size_t>(mechanism.size(), 20), mechanism.substr(0, 20));
    return g;
}

// A frame header announcing `size` body bytes: short form up to 255, long form above
// (or always, with force_long). `flags` must not carry LONG; it is added as needed.
inline std::string frame_header(std::uint8_t flags, std::uint64_t size, bool force_long = false) {
    std::string h;
    if (size <= 255 && !force_long) {
        h.push_back(static_cast<char>(flags));
        h.push_back(static_cast<char>(size));
        return h;
    }
    h.push_back(static_cast<char>(flags | flag_long));
    for (int shift = 56; shift >= 0; shift -= 8) h.push_back(static_cast<char>((size >> shift) & 0xFF));
    return h;
}

// A whole frame: header and body.
inline std::string frame(std::string_view body, std::uint8_t flags = 0) {
    return frame_header(flags, body.size()) + std::string(body);
}

// A command frame: name-length, name, data.
inline std::string command(std::string_view name, std::string_view data = {}) {
    std::string body(1, static_cast<char>(name.size()));
    body.append(name);
    body.append(data);
    return frame(body, flag_command);
}

// One READY property: name-length(1) name value-length(4, BE) value.
inline std::string property(std::string_view name, std::string_view value) {
    std::string p(1, static_cast<char>(name.size()));
    p.append(name);
    const auto n = static_cast<std::uint32_t>(value.size());
    for (int shift = 24; shift >= 0; shift -= 8) p.push_back(static_cast<char>((n >> shift) & 0xFF));
    p.append(value);
    return p;
}

// READY announcing `socket_type` ("PAIR", "PUSH", ...).
inline std::string ready(std::string_view socket_type) {
    return command("READY", property("Socket-Type", socket_type));
}

// One frame as read from the wire.
struct frame_in {
    std::uint8_t flags = 0;
    std::string body;
    bool is_command() const noexcept { return (flags & flag_command) != 0; }
    // The command's name ("READY", "PING", ...), or empty for a data frame or a malformed body.
    std::string_view command_name() const noexcept {
        if (!is_command() || body.empty()) return {};
        const auto len = static_cast<unsigned char>(body[0]);
        if (1u + len > body.size()) return {};
        return std::string_view(body).substr(1, len);
    }
};

// A client stream socket connected to a volley (or any ZMTP) listener. Blocking connect
// (loopback completes at once or is refused); every read has a deadline.
class peer {
public:
    // Connects to "tcp://127.0.0.1:PORT" or "ipc:///path". Throws std::runtime_error.
    explicit peer(std::string_view endpoint) {
        if (endpoint.starts_with("tcp://")) {
            const auto hostport = endpoint.substr(6);
            const auto colon = hostport.rfind(':');
            if (colon == std::string_view::npos) throw std::runtime_error("raw peer: bad tcp endpoint");
            sockaddr_in sa{};
            sa.sin_family = AF_INET;
            sa.sin_port = htons(static_cast<std::uint16_t>(std::stoi(std::string(hostport.substr(colon + 1)))));
            if (::inet_pton(AF_INET, std::string(hostport.substr(0, colon)).c_str(), &sa.sin_addr) != 1)
                throw std::runtime_error("raw peer: tcp endpoint is not an IPv4 literal");
            open(AF_INET, reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
        } else if (endpoint.starts_with("ipc://")) {
            const auto path = endpoint.substr(6);
            sockaddr_un sa{};
            sa.sun_family = AF_UNIX;
            if (path.size() >= sizeof sa.sun_path) throw std::runtime_error("raw peer: ipc path too long");
            std::memcpy(sa.sun_path, path.data(), path.size());
            open(AF_UNIX, reinterpret_cast<const sockaddr*>(&sa), sizeof sa);
        } else {
            throw std::runtime_error("raw peer: unknown scheme in " + std::string(endpoint));
        }
    }
    // Adopts a connected descriptor (one that server::accept() took).
    explicit peer(int connected_fd) noexcept : fd_(connected_fd) {}
    ~peer() { close(); }
    peer(const peer&) = delete;
    peer& operator=(const peer&) = delete;

    // Writes all of `bytes`; false when the connection is broken (EPIPE, reset).
    bool send(std::string_view bytes) {
        while (!bytes.empty()) {
            const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return false;
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    // Exactly `n` bytes, or nullopt when the deadline passes or the peer closes first.
    std::optional<std::string> read_exact(std::size_t n, std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (buffered_.size() < n) {
            if (fill(deadline) <= 0) return std::nullopt;
        }
        std::string out = buffered_.substr(0, n);
        buffered_.erase(0, n);
        return out;
    }

    // The next frame, or nullopt on timeout or close.
    std::optional<frame_in> read_frame(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        auto left = [&] {
            return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(
                                                              deadline - std::chrono::steady_clock::now()));
        };
        const auto head = read_exact(1, left());
        if (!head) return std::nullopt;
        frame_in f;
        f.flags = static_cast<std::uint8_t>((*head)[0]);
        const std::size_t size_bytes = (f.flags & flag_long) ? 8 : 1;
        const auto size_text = read_exact(size_bytes, left());
        if (!size_text) return std::nullopt;
        std::uint64_t size = 0;
        for (char c : *size_text) size = (size << 8) | static_cast<unsigned char>(c);
        if (size > (std::uint64_t{1} << 30)) return std::nullopt; // no test sends that much
        auto body = read_exact(static_cast<std::size_t>(size), left());
        if (!body) return std::nullopt;
        f.body = std::move(*body);
        return f;
    }

    // The NULL handshake as a well-behaved peer: sends a ZMTP 3.`minor` greeting and
    // READY(`socket_type`), reads the other side's greeting and READY. Returns an empty
    // string on success, else what went wrong.
    std::string handshake(std::string_view socket_type, std::uint8_t minor = 1,
                          std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
        if (!send(greeting(3, minor)) || !send(ready(socket_type))) return "cannot write greeting and READY";
        const auto g = read_exact(64, timeout);
        if (!g) return "no greeting from the listener";
        if (static_cast<unsigned char>((*g)[0]) != 0xFF || (*g)[10] != 3) return "listener greeting is not ZMTP 3";
        const auto r = read_frame(timeout);
        if (!r) return "no READY from the listener";
        if (r->command_name() != "READY") return "first command is not READY";
        return {};
    }

    // Waits for the other side to close: true on EOF or reset (data before it is discarded).
    bool wait_closed(std::chrono::milliseconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            const int r = fill(deadline);
            if (r == 0 || r == -2) return true;
            if (r == -1) return false;
            buffered_.clear();
        }
    }

    // Closes the socket; `abortive` sets SO_LINGER 0 first, so tcp sends a reset.
    void close(bool abortive = false) noexcept {
        if (fd_ < 0) return;
        if (abortive) {
            linger l{1, 0};
            ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        }
        ::close(fd_);
        fd_ = -1;
    }

private:
    void open(int family, const sockaddr* sa, socklen_t len) {
        fd_ = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error(std::string("raw peer: socket: ") + std::strerror(errno));
        if (::connect(fd_, sa, len) != 0) {
            const int err = errno;
            close();
            throw std::runtime_error(std::string("raw peer: connect: ") + std::strerror(err));
        }
    }

    // Reads what is available into buffered_ before the deadline: >0 bytes read,
    // 0 on EOF, -1 on timeout, -2 on a read error (reset).
    int fill(std::chrono::steady_clock::time_point deadline) {
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                                     std::chrono::steady_clock::now());
            pollfd p{fd_, POLLIN, 0};
            const int pr = ::poll(&p, 1, static_cast<int>(std::max<long long>(0, left.count())));
            if (pr < 0 && errno == EINTR) continue;
            if (pr <= 0) return -1;
            char buf[65536];
            const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return -2;
            if (n == 0) return 0;
            buffered_.append(buf, static_cast<std::size_t>(n));
            return static_cast<int>(n); // at most sizeof buf
        }
    }

    int fd_ = -1;
    std::string buffered_;
};

// A raw listener on tcp://127.0.0.1:<ephemeral> or an ipc path, for tests where volley
// connects and the misbehaving side accepts.
class server {
public:
    // `scheme`: "tcp" or "ipc"; `ipc_path` names the file for ipc. Throws std::runtime_error.
    server(std::string_view scheme, const std::string& ipc_path = {}) {
        if (scheme == "tcp") {
            fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_in sa{};
            sa.sin_family = AF_INET;
            sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            if (fd_ < 0 || ::bind(fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd_, 16) != 0)
                fail("tcp listen");
            socklen_t len = sizeof sa;
            ::getsockname(fd_, reinterpret_cast<sockaddr*>(&sa), &len);
            endpoint_ = "tcp://127.0.0.1:" + std::to_string(ntohs(sa.sin_port));
        } else {
            fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_un sa{};
            sa.sun_family = AF_UNIX;
            if (ipc_path.size() >= sizeof sa.sun_path) throw std::runtime_error("raw server: ipc path too long");
            std::memcpy(sa.sun_path, ipc_path.data(), ipc_path.size());
            if (fd_ < 0 || ::bind(fd_, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 || ::listen(fd_, 16) != 0)
                fail("ipc listen");
            path_ = ipc_path;
            endpoint_ = "ipc://" + ipc_path;
        }
    }
    ~server() {
        if (fd_ >= 0) ::close(fd_);
        if (!path_.empty()) ::unlink(path_.c_str());
    }
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    const std::string& endpoint() const noexcept { return endpoint_; }

    // The next connection, or nullptr if none comes within `timeout`.
    std::unique_ptr<peer> accept(std::chrono::milliseconds timeout) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return nullptr;
        const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
        return c < 0 ? nullptr : std::make_unique<peer>(c);
    }

private:
    [[noreturn]] void fail(const char* what) {
        const int err = errno;
        if (fd_ >= 0) ::close(fd_);
        throw std::runtime_error(std::string("raw server: ") + what + ": " + std::strerror(err));
    }
    int fd_ = -1;
    std::string endpoint_;
    std::string path_;
};

} // namespace raw_zmtp
