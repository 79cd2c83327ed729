// SPDX-License-Identifier: MPL-2.0
// volley, the command-line tool (as nngcat is for nng): one socket of any
// type, bound or connected, that sends what it is given and prints what it
// receives; or `volley monitor`, which prints a socket's connection events.
// `volley --help` (args.cpp) says what each type does.
//
// SIGINT and SIGTERM are taken by a thread of their own (blocked everywhere
// else, volley's I/O thread included): it exits at once with 128 + the signal
// number, dropping whatever is still queued.
#include "tool.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <pthread.h>
#include <string_view>
#include <thread>

namespace {

using namespace volley::cli;

// Blocks SIGINT and SIGTERM in this thread and every thread it starts from now on.
sigset_t block_stop_signals() {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, nullptr);
    return stop;
}

void on_stop_signal(sigset_t stop) {
    int sig = 0;
    if (sigwait(&stop, &sig) != 0) return;
    std::fflush(stdout);
    std::_Exit(128 + sig);
}

int fail(int status, std::string_view why) {
    if (why.starts_with("volley: ")) why.remove_prefix(8); // a std::system_error's what() from the library
    std::fprintf(stderr, "volley: %.*s\n", static_cast<int>(why.size()), why.data());
    return status;
}

} // namespace

int main(int argc, char** argv) {
    command c;
    try {
        c = parse(argc, argv);
    } catch (const usage_error& e) {
        return fail(exit_usage, e.what());
    }
    if (c.what == command::kind::help) {
        std::fwrite(usage().data(), 1, usage().size(), stdout);
        return exit_ok;
    }
    if (c.what == command::kind::version) {
        std::printf("volley %s\n", volley::version().text);
        return exit_ok;
    }
    const sigset_t stop = block_stop_signals();
    std::thread(on_stop_signal, stop).detach();
    volley::context ctx;
    try {
        return c.what == command::kind::monitor ? watch(ctx, c) : run(ctx, c);
    } catch (const failure& e) {
        return fail(e.status, e.what());
    } catch (const std::system_error& e) {
        return fail(exit_failure, e.what());
    } catch (const std::exception& e) {
        return fail(exit_failure, e.what());
    }
}
