// The admin API under /api/v1/ (bearer AUDITBOT_ADMIN_TOKEN): import and export of the control
// matrix, the auditor request log, evidence, the audit log and the findings report.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "bot/http_server.hpp"

namespace auditbot {

class App;

// True when `authorization` is "Bearer <token>" for the configured token. Compares digests
// in constant time, so neither the content nor the length of the token leaks through timing.
bool admin_token_matches(std::string_view authorization, const std::string& token);

// The /api/v1/ routes. With no token configured every route answers 503 and the reason is
// logged once here, so a forgotten secret is visible without opening an unauthenticated door.
std::vector<HttpRoute> admin_api_routes(App& app);

}  // namespace auditbot
