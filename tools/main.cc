#include <iostream>
#include <string>
#include <vector>

#include "tools/cli.h"

int main(int argc, char** argv) {
  return halogen::cli::Main(std::vector<std::string>(argv + 1, argv + argc), std::cout, std::cerr);
}
