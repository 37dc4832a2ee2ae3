// What the Redis front end's unit tests share: running one command on a session and
// taking its reply.
#pragma once

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "resp/session.h"

namespace shoal::test {

// Runs one command; the session must answer it before returning (the harness cores do).
inline std::string run(resp::Session& s, std::vector<std::string> args) {
    std::string out;
    bool called = false;
    s.run(std::move(args), [&](std::string reply, bool) {
        out = std::move(reply);
        called = true;
    });
    REQUIRE(called);
    return out;
}

}  // namespace shoal::test
