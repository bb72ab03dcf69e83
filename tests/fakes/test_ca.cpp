// Builds the test CA with EVP/X509 calls (EC P-256 keys, SHA-256 signatures).
#include "tests/fakes/test_ca.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>

namespace auditbot::test {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test CA: ") + what);
}

Key new_key() {
  Key k(EVP_EC_gen("P-256"));
  check(k != nullptr, "EC key generation");
  return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, "extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

Cert make_cert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, long serial,
               bool is_ca) {
  Cert c(X509_new());
  X509_set_version(c.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c.get()), 7L * 24 * 3600);
  X509_set_pubkey(c.get(), key);
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn),
                             -1, -1, 0);
  X509* iss = issuer ? issuer : c.get();
  X509_set_issuer_name(c.get(), X509_get_subject_name(iss));
  if (is_ca) {
    add_ext(c.get(), iss, NID_basic_constraints, "critical,CA:TRUE");
    add_ext(c.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    add_ext(c.get(), iss, NID_subject_key_identifier, "hash");
  } else {
    add_ext(c.get(), iss, NID_basic_constraints, "critical,CA:FALSE");
    add_ext(c.get(), iss, NID_key_usage, "critical,digitalSignature,keyEncipherment");
    add_ext(c.get(), iss, NID_ext_key_usage, "serverAuth");
    add_ext(c.get(), iss, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1");
  }
  check(X509_sign(c.get(), issuer_key ? issuer_key : key, EVP_sha256()) > 0, "sign");
  return c;
}

void write_cert(const std::string& path, X509* c) {
  FILE* f = std::fopen(path.c_str(), "w");
  check(f != nullptr, "open cert file");
  PEM_write_X509(f, c);
  std::fclose(f);
}

TestCa build() {
  TestCa ca;
  auto tmpl = (std::filesystem::temp_directory_path() / "auditbot-ca-XXXXXX").string();
  check(::mkdtemp(tmpl.data()) != nullptr, "mkdtemp");
  ca.dir = tmpl;
  ca.ca_file = ca.dir + "/ca.pem";
  ca.cert_file = ca.dir + "/server.pem";
  ca.key_file = ca.dir + "/server.key";
  ca.other_ca_file = ca.dir + "/other-ca.pem";

  Key ca_key = new_key();
  Cert ca_cert = make_cert(ca_key.get(), "auditbot test CA", nullptr, nullptr, 1, true);
  Key srv_key = new_key();
  Cert srv = make_cert(srv_key.get(), "127.0.0.1", ca_cert.get(), ca_key.get(), 2, false);
  Key other_key = new_key();
  Cert other = make_cert(other_key.get(), "unrelated test CA", nullptr, nullptr, 3, true);

  write_cert(ca.ca_file, ca_cert.get());
  write_cert(ca.cert_file, srv.get());
  write_cert(ca.other_ca_file, other.get());
  FILE* f = std::fopen(ca.key_file.c_str(), "w");
  check(f != nullptr, "open key file");
  PEM_write_PrivateKey(f, srv_key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  return ca;
}

struct Holder {
  TestCa ca = build();
  ~Holder() {
    std::error_code ec;
    std::filesystem::remove_all(ca.dir, ec);
  }
};

}  // namespace

const TestCa& TestCa::get() {
  static Holder holder;
  return holder.ca;
}

}  // namespace auditbot::test
