#include "cli/app.hpp"

int main(int argc, char** argv) { return boxmon::cli::run(argc, argv); }
