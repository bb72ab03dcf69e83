#include "bot/app/admin_api.hpp"

#include <openssl/crypto.h>

#include <cctype>
#include <charconv>
#include <map>

#include "bot/app/app.hpp"
#include "bot/errors.hpp"
#include "bot/log.hpp"
#include "handlers/controls.hpp"
#include "handlers/evidence.hpp"

namespace auditbot {
namespace {

namespace http = boost::beast::http;

constexpr std::size_t kImportBodyLimit = 8 << 20;  // an auditor's list or a big matrix
constexpr std::string_view kActor = "admin-api";

std::string error_json(const std::string& why) {
  return nlohmann::json{{"error", why}}.dump();
}

HttpResponse error(const HttpRequest& req, http::status s, const std::string& why) {
  return json_response(req, s, error_json(why));
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string url_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
               hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// ?format=csv&map=... -> {format: csv, map: ...}
std::map<std::string, std::string> query_of(const HttpRequest& req) {
  std::map<std::string, std::string> out;
  const std::string_view target(req.target().data(), req.target().size());
  const auto q = target.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view part = rest.substr(0, amp);
    const auto eq = part.find('=');
    out[url_decode(part.substr(0, eq))] =
        eq == std::string_view::npos ? "" : url_decode(part.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return out;
}

bool wants_csv(const HttpRequest& req, const std::map<std::string, std::string>& query) {
  if (auto f = query.find("format"); f != query.end()) return f->second == "csv";
  const std::string_view type(req[http::field::content_type].data(),
                              req[http::field::content_type].size());
  return type.find("csv") != std::string_view::npos;
}

// Wraps a handler with the token check and turns typed errors into status codes: bad input
// is 400 with the reason, a concurrent change 409, anything else a generic 500.
HttpRoute guarded(App& app, http::verb method, std::string path, std::size_t body_limit,
                  std::function<HttpResponse(const HttpRequest&)> run) {
  return {method, std::move(path), body_limit,
          [&app, run = std::move(run)](const HttpRequest& req) {
            const std::string& token = app.config().admin_token;
            if (token.empty()) {
              return error(req, http::status::service_unavailable,
                           "the admin API is disabled: AUDITBOT_ADMIN_TOKEN is not set");
            }
            const auto auth = req[http::field::authorization];
            if (!admin_token_matches(std::string_view(auth.data(), auth.size()), token)) {
              log::warn("admin_api.unauthorised",
                        {{"path", std::string_view(req.target().data(), req.target().size())}});
              auto res = error(req, http::status::unauthorized, "missing or wrong bearer token");
              res.set(http::field::www_authenticate, "Bearer");
              return res;
            }
            try {
              return run(req);
            } catch (const Conflict& e) {
              return error(req, http::status::conflict, e.what());
            } catch (const UserError& e) {
              return error(req, http::status::bad_request, e.what());
            } catch (const ConfigError& e) {
              return error(req, http::status::bad_request, e.what());
            } catch (const std::exception& e) {
              log::error("admin_api.failed",
                         {{"path", std::string_view(req.target().data(), req.target().size())},
                          {"error", e.what()}});
              return error(req, http::status::internal_server_error, "internal error");
            }
          }};
}

nlohmann::json audit_json(const AuditEntry& e) {
  nlohmann::json detail = nlohmann::json::parse(e.detail, nullptr, false);
  if (detail.is_discarded()) detail = e.detail;
  return {{"stream_id", e.stream_id}, {"seq", e.seq},       {"ts", e.ts},
          {"actor", e.actor},         {"action", e.action}, {"item", e.item},
          {"detail", detail},         {"prev", e.prev},     {"hash", e.hash}};
}

}  // namespace

bool admin_token_matches(std::string_view authorization, const std::string& token) {
  if (token.empty()) return false;
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return false;
  }
  std::string_view given = authorization.substr(kScheme.size());
  while (!given.empty() && given.front() == ' ')
    given.remove_prefix(1);
  while (!given.empty() && given.back() == ' ')
    given.remove_suffix(1);
  const std::string a = sha256_hex(given);
  const std::string b = sha256_hex(token);
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::vector<HttpRoute> admin_api_routes(App& app) {
  if (app.config().admin_token.empty()) {
    log::warn("admin_api.disabled",
              {{"reason", "AUDITBOT_ADMIN_TOKEN is not set; /api/v1/ answers 503"}});
  }
  std::vector<HttpRoute> routes;

  routes.push_back(guarded(app, http::verb::get, "/api/v1/controls", 0, [&app](const auto& req) {
    const auto all = ControlCatalog(app.services()).all();
    return wants_csv(req, query_of(req))
               ? make_response(req, http::status::ok, controls_to_csv(all), "text/csv")
               : make_response(req, http::status::ok, controls_to_yaml(all), "application/yaml");
  }));
  routes.push_back(
      guarded(app, http::verb::post, "/api/v1/controls", kImportBodyLimit, [&app](const auto& req) {
        const auto controls = parse_controls(
            req.body(), wants_csv(req, query_of(req)) ? "csv" : "yaml", app.people());
        if (controls.empty()) throw ImportError("the matrix holds no controls");
        const auto changed = ControlCatalog(app.services()).import(controls, std::string(kActor));
        return json_response(
            req, http::status::ok,
            nlohmann::json{{"imported", controls.size()}, {"changed", changed}}.dump());
      }));

  routes.push_back(guarded(app, http::verb::get, "/api/v1/requests", 0, [&app](const auto& req) {
    return make_response(req, http::status::ok, app.requests().export_csv(), "text/csv");
  }));
  routes.push_back(
      guarded(app, http::verb::post, "/api/v1/requests", kImportBodyLimit, [&app](const auto& req) {
        const auto query = query_of(req);
        const auto map =
            query.count("map") ? parse_column_map(query.at("map")) : RequestColumnMap{};
        const auto ids = app.requests().import_csv(req.body(), std::string(kActor), map);
        return json_response(req, http::status::ok,
                             nlohmann::json{{"imported", ids.size()}, {"ids", ids}}.dump());
      }));

  routes.push_back(guarded(app, http::verb::get, "/api/v1/evidence", 0, [&app](const auto& req) {
    return make_response(req, http::status::ok,
                         evidence_to_csv(EvidenceLedger(app.services()).all()), "text/csv");
  }));
  routes.push_back(
      guarded(app, http::verb::post, "/api/v1/evidence", kImportBodyLimit, [&app](const auto& req) {
        const auto ids =
            EvidenceLedger(app.services()).import_json(req.body(), std::string(kActor));
        return json_response(req, http::status::ok,
                             nlohmann::json{{"imported", ids.size()}, {"ids", ids}}.dump());
      }));

  routes.push_back(guarded(app, http::verb::get, "/api/v1/audit-log", 0, [&app](const auto& req) {
    const auto query = query_of(req);
    std::size_t limit = 1000;
    if (auto l = query.find("limit"); l != query.end()) {
      const auto& v = l->second;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), limit);
      if (ec != std::errc() || p != v.data() + v.size() || limit == 0 || limit > 10000)
        throw UserError("limit must be a number from 1 to 10000");
    }
    const std::string after = query.count("after") ? query.at("after") : "-";
    if (after != "-" && after.find_first_not_of("0123456789-") != std::string::npos)
      throw UserError("after must be a stream id such as 1764600000000-0");
    const auto entries = app.store().read_audit(after, limit);
    nlohmann::json out{{"entries", nlohmann::json::array()}};
    for (const auto& e : entries)
      out["entries"].push_back(audit_json(e));
    out["next"] = entries.size() == limit ? entries.back().stream_id : "";
    return json_response(req, http::status::ok, out.dump());
  }));

  routes.push_back(guarded(app, http::verb::get, "/api/v1/findings", 0, [&app](const auto& req) {
    return make_response(req, http::status::ok, app.findings().export_text(), "text/plain");
  }));
  return routes;
}

}  // namespace auditbot
