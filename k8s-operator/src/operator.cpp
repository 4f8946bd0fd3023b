#include "holomush/operator/operator.hpp"

#include <iostream>

#include "holomush/common/version.hpp"

namespace holomush::op {

int RunOperator(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--version") {
    std::cout << "holomush-operator " << common::kVersion << "\n";
    return 0;
  }
  std::cerr << "holomush-operator: the controller is not built yet (issue 6)\n";
  return 2;
}

}  // namespace holomush::op
