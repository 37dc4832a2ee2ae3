// to_errc: a store's error code becomes a shoal::errc by its category, never by its
// number alone (ENOSPC is 28, past the last errc; EIO is 5, which would read as
// bad_context).
#include <catch2/catch.hpp>

#include <system_error>

#include "core/errc.h"

using namespace shoal;

TEST_CASE("errc: to_errc keeps Shoal's codes and maps every other category to the fallback", "[core]") {
    CHECK(to_errc({}) == errc::ok);
    CHECK(to_errc(make_error_code(errc::store_full)) == errc::store_full);
    CHECK(to_errc(make_error_code(errc::forbidden)) == errc::forbidden);
    CHECK(to_errc(std::make_error_code(std::errc::io_error)) == errc::store_error);
    CHECK(to_errc(std::make_error_code(std::errc::no_space_on_device), errc::store_full) == errc::store_full);
    CHECK(to_errc(std::error_code(5, std::system_category())) == errc::store_error);  // not bad_context
    CHECK(to_errc(std::error_code(999, shoal_category())) == errc::store_error);      // past the last code
    CHECK(errc_name(errc::forbidden) == "forbidden");
}
