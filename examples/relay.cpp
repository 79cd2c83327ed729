// SPDX-License-Identifier: MPL-2.0
// Multithreaded relay (PAIR over inproc): threads of one process hand a
// signal along a chain, each step waiting for the one before. PAIR is the
// socket for this: exactly two ends, messages both ways, and over inproc a
// message moves from one thread to the other without a copy or a system
// call. The chain: step 1 -> step 2 -> step 3 (main), each link a PAIR pair.
#include <volley/volley.hpp>

#include <cstdio>
#include <string>
#include <thread>

int main() {
    volley::context ctx;
    // Bind before the thread that connects starts (it could connect first: inproc takes
    // either order, and what it sent waits for the bind).
    volley::socket step3(ctx, volley::socket_type::pair);
    step3.bind("inproc://step3");

    std::thread step2([&ctx] {
        volley::socket from1(ctx, volley::socket_type::pair);
        from1.bind("inproc://step2");
        std::thread step1([&ctx] {
            volley::socket to2(ctx, volley::socket_type::pair);
            to2.connect("inproc://step2");
            std::printf("step 1 ready, signaling step 2\n");
            if (!to2.send("READY")) std::printf("step 1: send failed\n"); // step 2 then waits in vain
        });
        auto signal = from1.recv(); // wait for step 1
        step1.join();
        volley::socket to3(ctx, volley::socket_type::pair);
        to3.connect("inproc://step3");
        std::printf("step 2 ready (got %s), signaling step 3\n", signal ? signal->to_string().c_str() : "nothing");
        if (!to3.send(signal ? "READY" : "FAILED")) std::printf("step 2: send failed\n");
    });

    auto signal = step3.recv();
    step2.join();
    const bool ok = signal && signal->view() == "READY";
    std::printf("step 3: %s\n", ok ? "test successful" : "the chain broke");
    return ok ? 0 : 1;
}
