// The quorum arithmetic of puts and gets (replica/quorum.h), alone.
#include <catch2/catch.hpp>

#include "replica/quorum.h"

namespace shoal::replica {

TEST_CASE("quorum: met once enough answers came, with enough from primaries", "[quorum]") {
    Quorum q{2, 1};  // w=2, pw=1
    CHECK_FALSE(q.met());
    CHECK(q.wants_primary());
    q.count(false);  // a fallback
    q.count(false);  // another: two answers, but no primary among them
    CHECK(q.got == 2);
    CHECK_FALSE(q.met());
    CHECK(q.wants_primary());
    q.count(true);
    CHECK(q.met());
    CHECK_FALSE(q.wants_primary());
    CHECK(q.got == 3);
    CHECK(q.got_primary == 1);
}

TEST_CASE("quorum: no primary needed, any answers count", "[quorum]") {
    Quorum q{1, 0};
    CHECK_FALSE(q.wants_primary());
    CHECK_FALSE(q.met());
    q.count(false);
    CHECK(q.met());
    Quorum none{0, 0};  // r=0 cannot be asked for, but nothing is owed then
    CHECK(none.met());
}

}  // namespace shoal::replica
