// SPDX-License-Identifier: MPL-2.0
// A reliable client that survives a crashing server (REQ with resend): the
// zguide's "lazy pirate" without the pain. With libzmq a REQ whose request
// or reply is lost is stuck (EFSM on the next send) and the client must
// close and remake its socket. A volley REQ with req_resend_ivl resends the
// request itself until a reply comes, also at once when its connection
// drops, and with request ids (implied) a late reply to an earlier copy is
// never delivered: the client code stays a plain send-then-recv loop.
//
// The server here crashes on purpose twice: it takes a request and dies
// without answering; a new server comes up on the same endpoint after a
// while; the client carries on as if nothing happened.
#include <volley/volley.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <string>
#include <thread>

using namespace std::chrono_literals;

int main() {
    constexpr int requests = 12;
    std::promise<std::string> bound; // where the first server listens
    std::atomic<bool> done{false};

    // The server: answers four requests, then "crashes" (its whole context goes, the
    // connection with it) on the fifth, and is restarted 300 ms later, until the client is done.
    auto run_server = [&](volley::socket& rep, int answer) {
        for (int i = 0; i < answer; ++i) {
            auto request = rep.recv();
            if (!request) return;
            if (!rep.send("reply to " + request->to_string())) return;
        }
        (void)rep.recv(); // the request it takes to the grave
    };
    std::thread server([&] {
        int lives = 0;
        std::string endpoint;
        while (!done.load()) {
            volley::context server_ctx;
            volley::socket rep(server_ctx, volley::socket_type::rep);
            rep.set(volley::opt::linger, 0ms);
            rep.set(volley::opt::rcvtimeo, 2000ms);
            if (endpoint.empty()) {
                rep.bind("tcp://127.0.0.1:*");
                endpoint = rep.last_endpoint();
                bound.set_value(endpoint);
            } else {
                rep.bind(endpoint);
            }
            run_server(rep, ++lives < 3 ? 4 : 1000);
            std::this_thread::sleep_for(300ms); // the server is down for a while
        }
    });
    const std::string endpoint = bound.get_future().get();

    volley::context ctx;
    volley::socket req(ctx, volley::socket_type::req);
    req.set(volley::opt::req_resend_ivl, 250ms); // no reply within 250 ms: ask again
    req.set(volley::opt::rcvtimeo, 10'000ms);    // give up only after this long in all
    req.connect(endpoint);
    int answered = 0;
    for (int i = 0; i < requests; ++i) {
        const std::string question = "request " + std::to_string(i);
        if (auto sent = req.send(question); !sent) {
            std::printf("client: send: %s\n", sent.error_code().message().c_str());
            break;
        }
        auto reply = req.recv(); // resends happen inside this call, as long as it waits
        if (!reply) {
            std::printf("client: %s has no answer: %s\n", question.c_str(), reply.error_code().message().c_str());
            break;
        }
        if (reply->view() != "reply to " + question) {
            std::printf("client: wrong reply to %s: %s\n", question.c_str(), reply->to_string().c_str());
            break;
        }
        std::printf("client: %s\n", reply->to_string().c_str());
        ++answered;
    }
    done = true;
    server.join();
    std::printf("%d of %d requests answered across two server crashes\n", answered, requests);
    return answered == requests ? 0 : 1;
}
