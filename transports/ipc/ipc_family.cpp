// SPDX-License-Identifier: MPL-2.0
// ipc:///path/to/socket (unix domain stream sockets). A socket file left by
// a dead process is replaced on bind (a live one is address_in_use; a file
// that is not a socket is never touched), and the file is removed when the
// endpoint closes. "ipc://@name" uses the Linux abstract namespace (no
// file); "ipc://*" binds a fresh file in the temporary directory.
#include "stream/stream_family.hpp"
#include "transports.hpp"

#include "stream/stream_transport.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <random>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace volley::detail {
namespace {

bool is_abstract(const resolved_address& a) noexcept {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&a.storage);
    return un->sun_path[0] == '\0';
}

std::string path_of(const resolved_address& a) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&a.storage);
    const std::size_t n = std::min<std::size_t>(a.length - offsetof(sockaddr_un, sun_path), sizeof un->sun_path);
    if (n == 0) return {};
    if (is_abstract(a)) {
        std::string name(n, '@'); // '@' then the name after the leading NUL
        std::memcpy(name.data() + 1, un->sun_path + 1, n - 1);
        return name;
    }
    return std::string(un->sun_path, strnlen(un->sun_path, n));
}

class ipc_family final : public stream_family {
public:
    std::string_view scheme() const noexcept override { return "ipc"; }

    std::error_code resolve(std::string_view address, bool for_bind, const socket_options&,
                            resolved_address& out, std::string& why) const override {
        std::string path(address);
        if (path == "*") {
            if (!for_bind) return endpoint_error(why, errc::invalid_endpoint, "a connect needs a path, not '*'");
            // A random token as well as pid and counter: another user cannot plant a file at
            // a name it can predict, and a pid reused in another namespace sharing /tmp does
            // not collide.
            static const std::string token = [] {
                std::random_device rd;
                char text[17];
                std::snprintf(text, sizeof text, "%08x%08x", rd(), rd());
                return std::string(text);
            }();
            static std::atomic<unsigned> counter{0};
            const char* tmp = std::getenv("TMPDIR");
            path = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/volley-" +
                   std::to_string(::getpid()) + "-" + token + "-" + std::to_string(counter.fetch_add(1)) + ".ipc";
        }
        out = {};
        auto* un = reinterpret_cast<sockaddr_un*>(&out.storage);
        un->sun_family = AF_UNIX;
        if (path[0] == '@') { // abstract: a leading NUL, no file, no trailing NUL
            if (path.size() < 2)
                return endpoint_error(why, errc::invalid_endpoint, "an abstract name after '@' is empty");
            if (path.size() > sizeof un->sun_path)
                return endpoint_error(why, errc::invalid_endpoint,
                                      "the abstract name is " + std::to_string(path.size() - 1) + " bytes, over the " +
                                          std::to_string(sizeof un->sun_path - 1) + "-byte limit");
            un->sun_path[0] = '\0';
            std::memcpy(un->sun_path + 1, path.data() + 1, path.size() - 1);
            out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
            return {};
        }
        if (path.size() >= sizeof un->sun_path) // too long for a unix socket
            return endpoint_error(why, errc::invalid_endpoint,
                                  "the path is " + std::to_string(path.size()) + " bytes, over the " +
                                      std::to_string(sizeof un->sun_path - 1) + "-byte limit of a unix socket");
        std::memcpy(un->sun_path, path.c_str(), path.size() + 1);
        out.length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
        return {};
    }

    std::string to_uri(const resolved_address& a) const override { return "ipc://" + path_of(a); }

    void tune(int, const socket_options&) const noexcept override {}
    // A unix socket's default (net.core.wmem_default, 208 KiB here) cuts a 1 MiB message into
    // five writes, each waiting for the reader to drain the last: measured here, 1 MiB
    // messages went 10-20% faster with 1 MiB (more buys nothing, 4 MiB was slower: the data
    // in flight stops fitting the caches). The kernel caps it at net.core.wmem_max.
    int default_send_buffer() const noexcept override { return 1 << 20; }

    std::error_code prepare_bind(const resolved_address& a, std::string& why) const override {
        if (is_abstract(a)) return {};
        const std::string path = path_of(a);
        struct stat st{};
        if (::lstat(path.c_str(), &st) != 0) return {}; // nothing there
        if (!S_ISSOCK(st.st_mode)) // never delete a file that is not ours
            return endpoint_error(why, errc::address_in_use, "'" + path + "' exists and is not a socket");
        // A socket file: in use if somebody answers, stale (its process died) if refused.
        // Non-blocking, so a live listener whose backlog is full (a stopped process) is
        // "in use" at once (EAGAIN) rather than a bind() that hangs.
        const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (probe < 0)
            return endpoint_error(why, {errno, std::system_category()},
                                  std::string("socket() failed: ") + std::strerror(errno));
        const int rc = ::connect(probe, a.get(), a.length);
        const int err = errno;
        ::close(probe);
        if (rc == 0 || err == EAGAIN || err == EINPROGRESS)
            return endpoint_error(why, errc::address_in_use, "a live socket listens at '" + path + "'");
        if (err == ECONNREFUSED) ::unlink(path.c_str());
        return {}; // anything else: bind() says what is wrong
    }

    void after_close(const resolved_address& a) const noexcept override {
        if (is_abstract(a)) return;
        try {
            const std::string path = path_of(a);
            struct stat st{};
            if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(path.c_str());
        } catch (...) {
        }
    }
};

} // namespace

std::unique_ptr<volley::transport::transport> make_ipc_transport(context_core& ctx) {
    return make_stream_transport(ctx, std::make_unique<ipc_family>());
}

} // namespace volley::detail
