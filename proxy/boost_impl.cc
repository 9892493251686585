// The one translation unit that compiles Asio, Asio SSL and Beast (see the
// *_SEPARATE_COMPILATION definitions in the top-level CMakeLists.txt).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
