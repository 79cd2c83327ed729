// SPDX-License-Identifier: MPL-2.0
// Hello world (REQ/REP): the zguide's first program. A server binds a REP
// socket and answers each "Hello" with "World"; a client connects a REQ
// socket and sends ten requests, one at a time: REQ and REP alternate
// strictly (send, recv, send, ...), and REP sends each reply back to the
// client that asked.
//
//   hello                    both, in one process (tcp on 127.0.0.1, a free port)
//   hello server <endpoint>  just the server, e.g. hello server tcp://*:5555
//   hello client <endpoint>  just the client, e.g. hello client tcp://localhost:5555
#include <volley/volley.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace {

constexpr int requests = 10;

// Answers `count` requests (0: forever).
int serve(volley::socket& rep, int count) {
    for (int i = 0; count == 0 || i < count; ++i) {
        auto request = rep.recv();
        if (!request) {
            std::printf("server: recv: %s\n", request.error_code().message().c_str());
            return 1;
        }
        std::printf("server: received %s\n", request->to_string().c_str());
        if (auto sent = rep.send("World"); !sent) {
            std::printf("server: send: %s\n", sent.error_code().message().c_str());
            return 1;
        }
    }
    return 0;
}

int ask(volley::socket& req) {
    req.set(volley::opt::rcvtimeo, std::chrono::milliseconds(5000)); // never wait forever
    for (int i = 0; i < requests; ++i) {
        if (auto sent = req.send("Hello"); !sent) {
            std::printf("client: send: %s\n", sent.error_code().message().c_str());
            return 1;
        }
        auto reply = req.recv();
        if (!reply) {
            std::printf("client: no reply: %s\n", reply.error_code().message().c_str());
            return 1;
        }
        std::printf("client: request %d answered: %s\n", i, reply->to_string().c_str());
    }
    return 0;
}

} // namespace

int main(int argc, char* argv[]) {
    volley::context ctx;
    if (argc == 3 && std::strcmp(argv[1], "server") == 0) {
        volley::socket rep(ctx, volley::socket_type::rep);
        rep.bind(argv[2]);
        return serve(rep, 0);
    }
    if (argc == 3 && std::strcmp(argv[1], "client") == 0) {
        volley::socket req(ctx, volley::socket_type::req);
        req.connect(argv[2]);
        return ask(req);
    }
    if (argc != 1) {
        std::printf("usage: hello [server <endpoint> | client <endpoint>]\n");
        return 2;
    }
    volley::socket rep(ctx, volley::socket_type::rep);
    rep.bind("tcp://127.0.0.1:*");
    const std::string endpoint = rep.last_endpoint(); // the port the system chose
    int server_rc = 0;
    std::thread server([&] { server_rc = serve(rep, requests); });
    volley::socket req(ctx, volley::socket_type::req);
    req.connect(endpoint); // before or after the bind: either works
    const int client_rc = ask(req);
    server.join();
    return client_rc != 0 ? client_rc : server_rc;
}
