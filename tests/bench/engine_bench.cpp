// Scheduler pass over 1,000,000 open items with 1,000 due, and queueing a 10,000-person
// campaign, against a real redis-server on loopback (the bot's time is what is measured).
#include <benchmark/benchmark.h>

#include "integrations/redis/job_queue.hpp"
#include "tests/support/redis_server.hpp"

namespace auditbot {
namespace {

const TimePoint kNow = TimePoint(std::chrono::seconds(1796479387));

struct World {
  test::RedisServer server{test::RedisServer::Options{false}};
  redis::Client client{server.client_options()};
  FakeClock clock{kNow};
  Store store{client, "bench", clock};
};

World& world() {
  static World w;
  return w;
}

// 1,000,000 open items each with a job (escalation or reminder) in the due index; 1,000 due.
void fill(World& w, std::int64_t due_count) {
  const auto& k = w.store.keys();
  w.client.command({"DEL", sched_keys::due(k), sched_keys::leases(k), sched_keys::owners(k)});
  const std::int64_t now_ms = unix_millis(kNow);
  std::vector<redis::Command> batch;
  for (std::int64_t i = 0; i < 1'000'000; i += 10'000) {
    redis::Command c{"ZADD", sched_keys::due(k)};
    for (std::int64_t j = i; j < i + 10'000; ++j) {
      const std::int64_t at = j < due_count ? now_ms - 1000 - j : now_ms + 3'600'000 + j * 1000;
      c.push_back(std::to_string(at));
      c.push_back("escalate:ITEM-" + std::to_string(j));
    }
    batch.push_back(std::move(c));
  }
  w.client.pipeline(batch);
}

void BM_SchedulerPass_1M_open_1k_due(benchmark::State& state) {
  World& w = world();
  RedisJobQueue q(w.store);
  Scheduler s(q, "bench");
  std::size_t ran = 0;
  s.register_kind("escalate", [&](const Job&, TimePoint) { ++ran; });
  for (auto _ : state) {
    state.PauseTiming();
    fill(w, 1000);
    state.ResumeTiming();
    auto r = s.run_pass(kNow);
    if (r.done != 1000) state.SkipWithError("expected 1000 jobs");
  }
  state.counters["jobs_run"] = static_cast<double>(ran);
}
BENCHMARK(BM_SchedulerPass_1M_open_1k_due)->Unit(benchmark::kMillisecond)->Iterations(5);

void BM_QueueCampaign_10k(benchmark::State& state) {
  World& w = world();
  for (auto _ : state) {
    state.PauseTiming();
    w.client.command({"DEL", w.store.keys().outbox_stream()});
    state.ResumeTiming();
    for (int i = 0; i < 10'000; i += 500) {
      Txn t;
      for (int k = i; k < i + 500; ++k) {
        Message m;
        m.to = Recipient::person("person" + std::to_string(k));
        m.key = "policy:POL-1:v3:" + std::to_string(k);
        m.title = "Please acknowledge: Information Security Policy v3";
        m.text = "I have read and accept Information Security Policy v3";
        m.buttons.push_back(
            {"policy.ack", "I have read and accept", "POL-1:3", {}, Button::Style::primary});
        t.send(m);
      }
      t.audit("system", "policy.campaign_batch", "POL-1", {{"from", i}});
      if (!w.store.commit(t).ok()) state.SkipWithError("commit failed");
    }
  }
}
BENCHMARK(BM_QueueCampaign_10k)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace
}  // namespace auditbot

BENCHMARK_MAIN();
