// SPDX-License-Identifier: MPL-2.0
// Request-reply broker (ROUTER/DEALER through volley::proxy): clients and
// workers do not know each other, only the broker. Clients' REQ sockets
// connect to the broker's ROUTER frontend; workers' REP sockets connect to
// its DEALER backend; volley::proxy shuttles whole messages between the two,
// envelopes and all, so each reply finds its way back to the client that
// asked. Add workers and the DEALER spreads requests over them; add clients
// and the ROUTER fair-queues them.
//
//   client REQ x 4 --> ROUTER [proxy] DEALER --> REP worker x 3
//
// One process here (tcp for the frontend, inproc for the backend: a proxy
// joins any transports). The broker thread ends when the context shuts down.
#include <volley/volley.hpp>

#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

int main() {
    constexpr int clients = 4, workers = 3, requests = 25;
    volley::context ctx;

    volley::socket frontend(ctx, volley::socket_type::router);
    frontend.bind("tcp://127.0.0.1:*");
    volley::socket backend(ctx, volley::socket_type::dealer);
    backend.bind("inproc://workers");
    const std::string broker_at = frontend.last_endpoint();
    std::thread broker([&] { volley::proxy(frontend, backend); }); // returns errc::terminated at shutdown

    std::atomic<int> served{0};
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w) {
        pool.emplace_back([&ctx, &served, w] {
            volley::socket rep(ctx, volley::socket_type::rep);
            rep.connect("inproc://workers");
            for (;;) {
                auto request = rep.recv();
                if (!request) return; // terminated: the broker is closing
                ++served;
                if (!rep.send(request->to_string() + " done by worker " + std::to_string(w))) return;
            }
        });
    }

    std::atomic<int> answered{0}, wrong{0};
    std::vector<std::thread> users;
    for (int c = 0; c < clients; ++c) {
        users.emplace_back([&, c] {
            volley::socket req(ctx, volley::socket_type::req);
            req.set(volley::opt::rcvtimeo, std::chrono::milliseconds(5000));
            req.connect(broker_at);
            for (int i = 0; i < requests; ++i) {
                const std::string job = "client " + std::to_string(c) + " job " + std::to_string(i);
                if (!req.send(job)) {
                    ++wrong;
                    return;
                }
                auto reply = req.recv();
                if (!reply || reply->to_string().rfind(job + " done", 0) != 0) {
                    ++wrong; // no reply, or somebody else's
                    return;
                }
                ++answered;
            }
        });
    }
    for (auto& u : users) u.join();
    ctx.shutdown(); // ends the proxy and the idle workers
    broker.join();
    for (auto& w : pool) w.join();
    std::printf("%d requests answered by %d workers through the broker, %d wrong\n", answered.load(), workers,
                wrong.load());
    return answered == clients * requests && wrong == 0 && served == clients * requests ? 0 : 1;
}
