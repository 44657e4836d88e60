// Asio and Beast compiled once for the load generator (BOOST_*_SEPARATE_COMPILATION is set for the
// whole project), so the other files pay only for the declarations they include.
#include <utility>  // Boost 1.81 with g++ 12 needs std::exchange declared before Asio

#include <boost/asio/impl/src.hpp>
#include <boost/beast/src.hpp>
