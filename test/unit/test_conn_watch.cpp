// ConnWatch: which inbound connections the once-a-second sweep closes, and why.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "net/conn_watch.h"

using namespace shoal;
using namespace shoal::net;
using clock_type = std::chrono::steady_clock;

TEST_CASE("conn watch: silent, unfinished, idle and unread connections are closed past their bounds", "[net]") {
    const auto t0 = clock_type::now();
    ConnWatch w;
    ConnTimeouts t;  // hello 5 s, frame 10 s, client idle 300 s, peer idle 60 s, write 30 s
    std::map<std::string, int> closes;
    ReadProgress silent{t0, {}, false};
    ReadProgress half{t0, t0 + std::chrono::seconds(1), true};
    ReadProgress idle_peer{t0, {}, true};
    ReadProgress busy_client{t0 + std::chrono::seconds(50), {}, true};
    WriteProgress stuck{t0 + std::chrono::seconds(2), t0};
    ReadProgress healthy{t0, {}, true};
    WriteProgress flowing{{}, t0};
    auto add = [&](const char* name, const ReadProgress& r, const WriteProgress* wr, bool peer) {
        w.add(peer, wr, [&closes, name] { ++closes[name]; })->reading = r;  // as its reader would
    };
    add("silent", silent, nullptr, true);
    add("half", half, nullptr, false);
    add("idle_peer", idle_peer, nullptr, true);
    add("busy_client", busy_client, &stuck, false);
    add("healthy", healthy, &flowing, false);
    CHECK(w.unnamed() == 1);
    CHECK(w.count(true) == 2);
    CHECK(w.count(false) == 3);

    std::map<std::string, std::string> why;
    auto sweep_at = [&](int seconds) {
        return w.sweep(t, t0 + std::chrono::seconds(seconds), [&](bool, const char* reason) { why[reason] = reason; });
    };
    CHECK(sweep_at(5) == 0);  // every bound is exclusive
    CHECK(sweep_at(6) == 1);
    CHECK(closes["silent"] == 1);
    CHECK(why.count("no hello in time"));
    CHECK(sweep_at(11) == 1);  // the silent one again (its reader has not ended yet); the frame began at 1 s
    CHECK(sweep_at(12) == 2);  // and now the half frame
    CHECK(closes["half"] == 1);
    CHECK(why.count("frame not finished in time"));
    CHECK(sweep_at(33) == 3);  // replies not taken for 31 s
    CHECK(closes["busy_client"] == 1);
    CHECK(why.count("replies not taken in time"));
    CHECK(sweep_at(61) == 4);  // the peer that sent nothing for 61 s: idle
    CHECK(closes["idle_peer"] == 1);
    CHECK(why.count("idle"));
    CHECK(closes["healthy"] == 0);
    CHECK(sweep_at(301) == 5);  // a client idle for 300 s goes too
    CHECK(closes["healthy"] == 1);
}

TEST_CASE("conn watch: a connection leaves the watch when its reader ends", "[net]") {
    ConnWatch w;
    int closed = 0;
    const auto h = w.add(false, nullptr, [&] { ++closed; });  // no frame yet: unnamed
    CHECK(w.unnamed() == 1);
    CHECK(w.count(false) == 1);
    w.remove(h);
    CHECK(w.unnamed() == 0);
    CHECK(w.count(false) == 0);
    CHECK(w.sweep(ConnTimeouts{}, clock_type::now() + std::chrono::hours(1), [](bool, const char*) {}) == 0);
    CHECK(closed == 0);
}
