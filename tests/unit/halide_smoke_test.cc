// Fails at once when the Halide install is broken: JIT-compiles and runs a tiny pipeline on the host.
#include <catch2/catch.hpp>

#include "Halide.h"

TEST_CASE("Halide JIT-compiles and runs a pipeline on the host") {
  Halide::Var x("x"), y("y");
  Halide::Func f("f");
  f(x, y) = x * 3 + y;
  f.vectorize(x, 8).parallel(y);
  Halide::Buffer<int32_t> out = f.realize({16, 4}, Halide::get_jit_target_from_environment());
  for (int yy = 0; yy < 4; ++yy) {
    for (int xx = 0; xx < 16; ++xx) REQUIRE(out(xx, yy) == xx * 3 + yy);
  }
}
