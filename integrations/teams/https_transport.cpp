// Adapts http::Client to the Teams Transport.
#include "integrations/teams/https_transport.hpp"

namespace auditbot::teams {

Transport https_transport(http::Client& client) {
  return [&client](const HttpCall& call) {
    http::Request req;
    namespace bh = boost::beast::http;
    req.method = call.method == "POST"     ? bh::verb::post
                 : call.method == "PUT"    ? bh::verb::put
                 : call.method == "DELETE" ? bh::verb::delete_
                                           : bh::verb::get;
    req.url = call.url;
    if (!call.content_type.empty()) req.headers.emplace_back("Content-Type", call.content_type);
    req.headers.emplace_back("Accept", "application/json");
    req.body = call.body;
    req.bearer = call.bearer;
    const auto res = client.send(req);
    HttpAnswer a;
    a.status = res.status;
    a.body = res.body;
    a.retry_after = res.header("retry-after");
    a.operation_id = res.header("x-correlating-operationid");
    return a;
  };
}

}  // namespace auditbot::teams
