// The `rounds` command line: serve, admin, backup, version. Sub-commands other than serve open the
// store themselves and call the same app services as HTTP. `serve` is supplied by main.cpp so that
// this layer never depends on transport.
#pragma once

#include <functional>

#include "core/config.hpp"

namespace rounds::cli {

using ServeFunction = std::function<int(const Config&)>;
// Prints every route the server registers, one "METHOD /pattern" per line.
using RoutesFunction = std::function<int()>;

// Parses argv and runs the chosen sub-command; returns the process exit code.
int Main(int argc, char** argv, ServeFunction serve, RoutesFunction routes);

}  // namespace rounds::cli
