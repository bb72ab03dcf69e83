// Translates each HTTPS request into the fake cloud's HttpCall and its answer back.
#include "tests/fakes/teams_https.hpp"

namespace auditbot::test {

FakeTeamsHttps::FakeTeamsHttps(TeamsSigningKey& key)
    : server_([this](const RecordedRequest& r) {
        teams::HttpCall call;
        call.method = r.method;
        call.url = server_.base_url() + r.target;
        call.content_type = r.header("content-type");
        call.body = r.body;
        const std::string auth = r.header("authorization");
        if (auth.rfind("Bearer ", 0) == 0) call.bearer = auth.substr(7);
        const auto answer = cloud_->handle(call);
        FakeResponse res;
        res.status = answer.status;
        res.body = answer.body;
        if (!answer.retry_after.empty())
          res.headers.emplace_back("Retry-After", answer.retry_after);
        res.headers.emplace_back("X-Correlating-OperationId", answer.operation_id);
        return res;
      }) {
  const std::string base = server_.base_url();
  cloud_ = std::make_unique<FakeTeamsCloud>(
      key, base + "/v1/.well-known/openidconfiguration", base + "/v1/.well-known/keys",
      base + "/botframework.com/oauth2/v2.0/token", base + "/amer/");
}

}  // namespace auditbot::test
