// SPDX-License-Identifier: MPL-2.0
// Built against an installed volley: a REQ and a REP over tcp (an ephemeral port) and the
// library's version against the headers'.
#include <volley/volley.hpp>

#include <cstdio>
#include <cstring>

int main() {
    const auto v = volley::version();
    if (v.major != VOLLEY_VERSION_MAJOR || v.minor != VOLLEY_VERSION_MINOR || v.patch != VOLLEY_VERSION_PATCH) {
        std::printf("library %s, headers %d.%d.%d\n", v.text, VOLLEY_VERSION_MAJOR, VOLLEY_VERSION_MINOR,
                    VOLLEY_VERSION_PATCH);
        return 1;
    }
    volley::context ctx;
    volley::socket rep(ctx, volley::socket_type::rep);
    rep.bind("tcp://127.0.0.1:*");
    volley::socket req(ctx, volley::socket_type::req);
    req.set(volley::opt::rcvtimeo, std::chrono::milliseconds(10000));
    rep.set(volley::opt::rcvtimeo, std::chrono::milliseconds(10000));
    req.connect(rep.last_endpoint());
    if (!req.send("hello")) return 1;
    auto request = rep.recv();
    if (!request || request->view() != "hello" || !rep.send("world")) return 1;
    auto reply = req.recv();
    if (!reply || reply->view() != "world") return 1;
    std::printf("volley %s: hello -> world over %s\n", v.text, rep.last_endpoint().c_str());
    return 0;
}
