// The one translation unit that compiles Asio, Asio SSL and Beast; every other file sees
// only declarations because BOOST_{ASIO,BEAST}_SEPARATE_COMPILATION are set globally.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
