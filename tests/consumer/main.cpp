// A program that uses the installed package: y = A*x on a 3 x 3 matrix.
#include <shrink/shrink.hpp>

#include <cstdio>

int main() {
  shrink::Context ctx({shrink::Backend::Cpu});
  auto a = shrink::CsrMatrix<double>::from_arrays(3, 3, {0, 2, 3, 5}, {0, 2, 1, 0, 2},
                                                  {1.0, 2.0, 3.0, 4.0, 5.0});
  std::vector<double> x{1.0, 1.0, 1.0}, y(3);
  shrink::spmv(ctx, shrink::Op::NoTranspose, 1.0, a.view(), shrink::VectorView<const double>(x), 0.0,
               shrink::VectorView<double>(y));
  std::printf("%g %g %g\n", y[0], y[1], y[2]);
  return (y[0] == 3.0 && y[1] == 3.0 && y[2] == 9.0) ? 0 : 1;
}
