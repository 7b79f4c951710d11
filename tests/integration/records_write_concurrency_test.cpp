// Concurrent writers and readers of the FHIR write API against one real node and PostgreSQL:
// If-Match lets exactly one of many writers win, unconditional writers lose no version,
// a conditional create by identifier makes one resource however many ask at once, and a reader
// never sees half of a transaction. Threads start together behind a gate; every loop is bounded;
// nothing waits on the clock and nothing is asserted about time.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "tests/integration/records_write_fixture.h"

namespace hie::testing {
namespace {

class RecordsWriteConcurrency : public RecordsWriteFixture {
 protected:
  // Runs body(t) on n threads released together; returns when all are done.
  static void together(int n, const std::function<void(int)>& body) {
    std::mutex m;
    std::condition_variable cv;
    int ready = 0;
    bool go = false;
    std::vector<std::thread> threads;
    for (int t = 0; t < n; ++t) {
      threads.emplace_back([&, t] {
        {
          std::unique_lock<std::mutex> lock(m);
          if (++ready == n) {
            go = true;
            cv.notify_all();
          }
          cv.wait(lock, [&] { return go; });
        }
        body(t);
      });
    }
    for (auto& th : threads) th.join();
  }
};

std::string patient(const std::string& id, const std::string& family, const std::string& mrn = "") {
  std::string p = R"({"resourceType":"Patient")";
  if (!id.empty()) p += R"(,"id":")" + id + "\"";
  if (!mrn.empty()) p += R"(,"identifier":[{"system":"urn:oid:1.2.3","value":")" + mrn + "\"}]";
  return p + R"(,"name":[{"family":")" + family + "\"}]}";
}

constexpr int kThreads = 8;

TEST_F(RecordsWriteConcurrency, IfMatchLetsExactlyOneWriterWin) {
  start();
  ASSERT_EQ(send(hospital, "PUT", "/fhir/Patient/c-1", patient("c-1", "Start")).status, 201);
  std::vector<HttpResult> results(kThreads);
  together(kThreads, [&](int t) {
    results[t] = send(hospital, "PUT", "/fhir/Patient/c-1", patient("c-1", "Writer" + std::to_string(t)),
                      {"If-Match: W/\"1\""});
  });
  int won = 0, conflicts = 0, winner = -1;
  for (int t = 0; t < kThreads; ++t) {
    if (results[t].status == 200) {
      ++won;
      winner = t;
      EXPECT_EQ(results[t].header("ETag"), "W/\"2\"");
    } else if (results[t].status == 412) {
      ++conflicts;
      EXPECT_TRUE(contains(results[t].body, "is W/\\\"2\\\"")) << results[t].body;
    } else {
      ADD_FAILURE() << "thread " << t << ": " << results[t].status << " " << results[t].body << results[t].tlsError;
    }
  }
  EXPECT_EQ(won, 1);
  EXPECT_EQ(conflicts, kThreads - 1);
  EXPECT_EQ(versionOf("Patient", "c-1"), 2);
  EXPECT_EQ(scalar("SELECT count(*) FROM fhir_resource_history WHERE id = 'c-1'"), 2);
  ASSERT_GE(winner, 0);
  auto current = read(lakeside, "/fhir/Patient/c-1");
  EXPECT_TRUE(contains(current.body, "\"family\":\"Writer" + std::to_string(winner) + "\"")) << current.body;
}

TEST_F(RecordsWriteConcurrency, UnconditionalWritersLoseNoVersion) {
  start();
  ASSERT_EQ(send(hospital, "PUT", "/fhir/Patient/c-2", patient("c-2", "Start")).status, 201);
  constexpr int kEach = 5;
  std::vector<std::vector<HttpResult>> results(kThreads);
  together(kThreads, [&](int t) {
    for (int k = 0; k < kEach; ++k) {
      results[t].push_back(send(hospital, "PUT", "/fhir/Patient/c-2",
                                patient("c-2", "T" + std::to_string(t) + "K" + std::to_string(k))));
    }
  });
  constexpr int kLast = 1 + kThreads * kEach;
  std::set<std::string> etags;
  for (int t = 0; t < kThreads; ++t) {
    for (const auto& r : results[t]) {
      EXPECT_EQ(r.status, 200) << r.body << r.tlsError;
      etags.insert(r.header("ETag"));
    }
  }
  // Every writer got its own version, 2 to 41.
  std::set<std::string> expected;
  for (int v = 2; v <= kLast; ++v) expected.insert("W/\"" + std::to_string(v) + "\"");
  EXPECT_EQ(etags, expected);
  EXPECT_EQ(versionOf("Patient", "c-2"), kLast);
  // The history holds every version exactly once, each with its own versionId and one writer's content.
  EXPECT_EQ(scalar("SELECT count(*) FROM fhir_resource_history WHERE id = 'c-2'"), kLast);
  EXPECT_EQ(scalar("SELECT count(DISTINCT version) FROM fhir_resource_history WHERE id = 'c-2'"), kLast);
  EXPECT_EQ(scalar("SELECT min(version) FROM fhir_resource_history WHERE id = 'c-2'"), 1);
  EXPECT_EQ(scalar("SELECT max(version) FROM fhir_resource_history WHERE id = 'c-2'"), kLast);
  EXPECT_EQ(scalar("SELECT count(*) FROM fhir_resource_history WHERE id = 'c-2' AND "
                   "resource -> 'meta' ->> 'versionId' <> version::text"),
            0);
  EXPECT_EQ(scalar("SELECT count(DISTINCT resource -> 'name' -> 0 ->> 'family') FROM fhir_resource_history "
                   "WHERE id = 'c-2' AND version > 1"),
            kThreads * kEach);
  EXPECT_EQ(scalar("SELECT count(*) FROM fhir_resources r JOIN fhir_resource_history h USING (resource_type, id, version) "
                   "WHERE r.id = 'c-2' AND r.resource = h.resource"),
            1);
  // Each version is readable.
  for (int v = 1; v <= kLast; v += 10) {
    auto r = read(lakeside, "/fhir/Patient/c-2/_history/" + std::to_string(v));
    EXPECT_EQ(r.status, 200) << v << " " << r.body;
    EXPECT_TRUE(contains(r.body, "\"versionId\":\"" + std::to_string(v) + "\"")) << r.body;
  }
}

TEST_F(RecordsWriteConcurrency, ConditionalWritersMakeOneResource) {
  start();
  std::vector<HttpResult> updates(kThreads), creates(kThreads);
  together(kThreads, [&](int t) {
    updates[t] = send(hospital, "PUT", "/fhir/Patient?identifier=urn:oid:1.2.3%7CMRN-C",
                      patient("", "Writer" + std::to_string(t), "MRN-C"));
    creates[t] = send(hospital, "POST", "/fhir/Patient", patient("", "Creator" + std::to_string(t), "MRN-D"),
                      {"If-None-Exist: identifier=urn:oid:1.2.3%7CMRN-D"});
  });
  std::map<int, int> updateStatuses, createStatuses;
  std::set<std::string> updateIds, createIds;
  const std::regex idOf("/fhir/Patient/([A-Za-z0-9.-]+)/_history/");
  for (int t = 0; t < kThreads; ++t) {
    ++updateStatuses[updates[t].status];
    ++createStatuses[creates[t].status];
    std::smatch m;
    const std::string u = updates[t].header("Location"), c = creates[t].header("Location");
    if (std::regex_search(u, m, idOf)) updateIds.insert(m[1]);
    if (std::regex_search(c, m, idOf)) createIds.insert(m[1]);
  }
  EXPECT_EQ(updateStatuses, (std::map<int, int>{{200, kThreads - 1}, {201, 1}}));
  EXPECT_EQ(createStatuses, (std::map<int, int>{{200, kThreads - 1}, {201, 1}}));
  EXPECT_EQ(updateIds.size(), 1u);
  EXPECT_EQ(createIds.size(), 1u);
  EXPECT_EQ(scalar("SELECT count(*) FROM fhir_resources WHERE resource_type = 'Patient'"), 2);
  // Every conditional update is a version; the conditional creates found the first one.
  EXPECT_EQ(scalar("SELECT max(version) FROM fhir_resources WHERE resource -> 'identifier' -> 0 ->> 'value' = 'MRN-C'"),
            kThreads);
  EXPECT_EQ(scalar("SELECT max(version) FROM fhir_resources WHERE resource -> 'identifier' -> 0 ->> 'value' = 'MRN-D'"),
            1);
  EXPECT_EQ(scalar("SELECT count(*) FROM patient_identifiers"), 2);
}

TEST_F(RecordsWriteConcurrency, ReadersNeverSeeHalfATransaction) {
  start();
  constexpr int kTransactions = 20;
  constexpr int kObservations = 20;
  std::atomic<int> announced{0};  // transactions answered 200: patients r-0 .. r-(announced-1) are complete
  std::atomic<bool> writerDone{false};
  std::vector<HttpResult> writes;
  std::thread writer([&] {
    for (int i = 0; i < kTransactions; ++i) {
      const std::string id = "r-" + std::to_string(i);
      std::string tx = R"({"resourceType":"Bundle","type":"transaction","entry":[)";
      tx += R"({"resource":)" + patient(id, "Reader") + R"(,"request":{"method":"PUT","url":"Patient/)" + id + "\"}}";
      for (int k = 0; k < kObservations; ++k) {
        tx += R"(,{"resource":{"resourceType":"Observation","status":"final","code":{"text":"n)" + std::to_string(k) +
              R"("},"subject":{"reference":"Patient/)" + id + R"("}},"request":{"method":"POST","url":"Observation"}})";
      }
      tx += "]}";
      writes.push_back(send(hospital, "POST", "/fhir", tx));
      if (writes.back().status != 200) break;
      announced.store(i + 1);
    }
    writerDone.store(true);
  });

  // Reads while the writer writes (on one kept-alive connection, so that they are many): the patient
  // in flight has 0 or 20 observations, an announced one 20.
  std::unique_ptr<KeepAliveConnection> connection;
  int connections = 0;
  auto search = [&](const std::string& patientId) {
    HttpResult r;
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!connection) {
        connection = std::make_unique<KeepAliveConnection>(f.node()->port(), f.pki.root, f.as(lakeside));
        ++connections;
      }
      r = flat(connection->get("/fhir/Observation?patient=" + patientId + "&_count=1", {"X-Purpose-Of-Use: TREAT"}));
      if (!r.tlsRefused && r.header("Connection") != "close" && r.header("Connection") != "Close") return r;
      connection.reset();  // closed by the server (keep-alive limit or timeout): the next search reconnects
      if (!r.tlsRefused) return r;
    }
    return r;
  };
  std::vector<std::string> problems;
  int reads = 0, inFlightComplete = 0, inFlightEmpty = 0;
  for (int round = 0; round < 100000 && !writerDone.load(); ++round) {
    const int done = announced.load();
    const std::string inFlight = "r-" + std::to_string(done);
    auto r = search(inFlight);
    ++reads;
    const long long n = searchTotal(r);
    if (r.status != 200 || (n != 0 && n != kObservations)) {
      problems.push_back(inFlight + ": " + std::to_string(r.status) + " total " + std::to_string(n) + " " + r.body);
    }
    (n == kObservations ? inFlightComplete : inFlightEmpty)++;
    if (done > 0) {
      const std::string complete = "r-" + std::to_string(done - 1);
      auto c = search(complete);
      ++reads;
      if (c.status != 200 || searchTotal(c) != kObservations) {
        problems.push_back(complete + " (announced): " + std::to_string(c.status) + " " + c.body);
      }
    }
    if (problems.size() > 5) break;
  }
  writer.join();
  for (std::size_t i = 0; i < writes.size(); ++i) {
    EXPECT_EQ(writes[i].status, 200) << i << " " << writes[i].body << writes[i].tlsError;
  }
  EXPECT_EQ(announced.load(), kTransactions);
  EXPECT_TRUE(problems.empty()) << problems.size() << " reads saw part of a transaction, first: " << problems.front();
  EXPECT_GT(reads, 0);
  std::cout << "[ reads    ] " << reads << " searches on " << connections << " connections during " << kTransactions << " transactions; the patient in flight: "
            << inFlightComplete << " times complete, " << inFlightEmpty << " times not yet there\n";
  RecordProperty("reads", reads);
  RecordProperty("inFlightComplete", inFlightComplete);
  RecordProperty("inFlightEmpty", inFlightEmpty);
  // Afterwards every patient has all of its observations.
  for (int i = 0; i < kTransactions; ++i) {
    EXPECT_EQ(searchTotal(read(lakeside, "/fhir/Observation?patient=r-" + std::to_string(i) + "&_count=1")),
              kObservations);
  }
  EXPECT_EQ(scalar("SELECT count(*) FROM fhir_resources WHERE resource_type = 'Observation'"),
            kTransactions * kObservations);
}

}  // namespace
}  // namespace hie::testing
