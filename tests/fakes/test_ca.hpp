// A throw-away certificate authority made with the OpenSSL API when a test process starts:
// a CA certificate and a server certificate for 127.0.0.1 / localhost, as PEM files.
#pragma once

#include <string>

namespace auditbot::test {

struct TestCa {
  std::string dir;        // temp directory holding the files (removed at exit)
  std::string ca_file;    // CA certificate (give to clients as ca_file)
  std::string cert_file;  // server certificate chain for 127.0.0.1 and localhost
  std::string key_file;   // server private key
  // A second, unrelated CA: clients trusting only it must refuse our servers.
  std::string other_ca_file;

  // Generated once per process.
  static const TestCa& get();
};

}  // namespace auditbot::test
