// Metrics render the Prometheus text format a scraper accepts: HELP, TYPE, sorted series.
#include "bot/metrics.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>
#include <vector>

namespace auditbot {
namespace {

TEST(Metrics, RendersHelpTypeAndSeriesSortedByNameAndLabels) {
  Metrics metrics;
  metrics.counter("b_requests_total", "Requests.", R"(path="/z",status="200")") += 3;
  metrics.counter("b_requests_total", "Requests.", R"(path="/a",status="404")") += 1;
  metrics.gauge("a_open", "Open things.") = 7;

  EXPECT_EQ(metrics.render(),
            "# HELP a_open Open things.\n"
            "# TYPE a_open gauge\n"
            "a_open 7\n"
            "# HELP b_requests_total Requests.\n"
            "# TYPE b_requests_total counter\n"
            "b_requests_total{path=\"/a\",status=\"404\"} 1\n"
            "b_requests_total{path=\"/z\",status=\"200\"} 3\n");
}

TEST(Metrics, SameNameAndLabelsGiveTheSameCounter) {
  Metrics metrics;
  auto& first = metrics.counter("x_total", "X.", R"(k="v")");
  auto& second = metrics.counter("x_total", "X.", R"(k="v")");
  EXPECT_EQ(&first, &second);
  auto& other = metrics.counter("x_total", "X.", R"(k="w")");
  EXPECT_NE(&first, &other);
}

TEST(Metrics, RenderIsStableAcrossCalls) {
  Metrics metrics;
  metrics.counter("c_total", "C.", R"(a="1")") += 2;
  metrics.gauge("g", "G.") = -4;
  const auto once = metrics.render();
  EXPECT_EQ(once, metrics.render());
  EXPECT_NE(once.find("g -4\n"), std::string::npos);
}

TEST(Metrics, HelpTextIsEscaped) {
  Metrics metrics;
  metrics.counter("e_total", "line one\nback\\slash");
  EXPECT_NE(metrics.render().find("# HELP e_total line one\\nback\\\\slash\n"), std::string::npos);
}

TEST(Metrics, OneNameCannotBeBothCounterAndGauge) {
  Metrics metrics;
  metrics.counter("dup", "D.");
  EXPECT_THROW(metrics.gauge("dup", "D."), std::logic_error);
}

TEST(Metrics, CountersAreSafeToBumpFromManyThreads) {
  Metrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&metrics] {
      for (int i = 0; i < 1000; ++i)
        metrics.counter("t_total", "T.", R"(k="v")")++;
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_NE(metrics.render().find("t_total{k=\"v\"} 4000\n"), std::string::npos);
}

TEST(Metrics, GlobalIsOneInstance) {
  EXPECT_EQ(&Metrics::global(), &Metrics::global());
}

}  // namespace
}  // namespace auditbot
