// The production Transport for the Teams integration: the shared HTTPS client (certificate
// and host-name verification on) behind teams::HttpCall / HttpAnswer.
#pragma once

#include "integrations/http/https_client.hpp"
#include "integrations/teams/connector.hpp"

namespace auditbot::teams {

Transport https_transport(http::Client& client);

}  // namespace auditbot::teams
