#include "client/adapter/audit.h"

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/k8s/snapshot_loader.h"

namespace dsd::adapter {
namespace {

std::string Rfc3339(Clock::time_point t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromChrono(t),
                          absl::UTCTimeZone());
}

std::string LabelValue(const std::string& s) {
  std::string out;
  for (char c : client::Printable(s)) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

nlohmann::json ActionJson(const Action& a) {
  nlohmann::json j = {
      {"action", a.action}, {"node", a.node}, {"since", Rfc3339(a.since)}};
  if (a.action == "delete") {
    j["pod"] = a.pod;
    j["reason"] = a.reason;
    j["message"] = a.message;
  }
  if (a.has_explanation) {
    j["explanation"] = {{"shouldRun", a.should_run},
                        {"shouldContinueRunning", a.should_continue_running},
                        {"failedPredicates", a.failed_predicates}};
  }
  return j;
}

const char* GrpcCodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i <= 16 ? kNames[i] : "UNKNOWN";
}

}  // namespace

Auditor::Auditor(kube::RestConfig config, AuditOptions options,
                 std::ostream& log)
    : config_(std::move(config)),
      options_(std::move(options)),
      log_(log),
      tracker_(std::chrono::milliseconds(
          static_cast<int64_t>(options_.drift_after_seconds * 1000))) {
  kube::ClientOptions kube = options_.kube;
  kube.on_call = [this](const std::string& verb, int code) {
    std::lock_guard<std::mutex> lock(mu_);
    ++api_calls_[{verb, code}];
  };
  client_ = std::make_unique<kube::Client>(config_, kube);
  for (const kube::Resource* r : {&kube::kNodes, &kube::kDaemonSets,
                                  &kube::kPods, &kube::kControllerRevisions}) {
    kube::ReflectorOptions ro;
    ro.page_size = options_.page_size;
    if (r->namespaced) ro.namespace_ = options_.namespace_;
    if (r == &kube::kDaemonSets) ro.label_selector = options_.selector;
    ro.log = [this](const std::string& line) {
      Log("warning", "kubernetes api: " + line);
    };
    reflectors_.push_back(std::make_unique<kube::Reflector>(*client_, *r, ro));
  }
}

Auditor::~Auditor() {
  client_->Stop();
  for (auto& r : reflectors_) r->Stop();
}

void Auditor::Log(
    const std::string& level, const std::string& message,
    const std::vector<std::pair<std::string, std::string>>& fields) {
  const std::string ts = Rfc3339(Clock::now());
  std::string line;
  if (options_.json_logs) {
    nlohmann::json j = {{"ts", ts}, {"level", level}, {"msg", message}};
    for (const auto& [k, v] : fields) j[k] = v;
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else {
    line = ts + " " + level + " " + client::Printable(message);
    for (const auto& [k, v] : fields) {
      line += " " + k + "=" + client::Printable(v);
    }
  }
  std::lock_guard<std::mutex> lock(log_mu_);
  log_ << line << std::endl;
}

void Auditor::LogChange(const DriftChange& change) {
  auto fields = [](const Action& a) {
    std::vector<std::pair<std::string, std::string>> f = {
        {"daemonset", a.namespace_ + "/" + a.daemon_set},
        {"action", a.action},
        {"node", a.node}};
    if (a.action == "delete") {
      f.emplace_back("pod", a.pod);
      f.emplace_back("reason", a.reason);
      f.emplace_back("message", a.message);
    }
    f.emplace_back("since", Rfc3339(a.since));
    if (a.has_explanation && !a.failed_predicates.empty()) {
      std::string why;
      for (const std::string& p : a.failed_predicates) {
        why += (why.empty() ? "" : "; ") + p;
      }
      f.emplace_back("explanation", why);
    }
    return f;
  };
  for (const Action& a : change.started) Log("warning", "drift", fields(a));
  for (const Action& a : change.resolved) {
    Log("info", "drift resolved", fields(a));
  }
}

bool Auditor::Decide(Clock::time_point now) {
  std::vector<const kube::Reflector*> views;
  for (const auto& r : reflectors_) views.push_back(r.get());
  client::SnapshotLoader loader(int64_t{1} << 40);
  loader.AddText(kube::ListText(views), "cluster " + config_.server);
  client::LoadedSnapshot loaded = loader.Finish();
  {
    std::lock_guard<std::mutex> lock(mu_);
    problems_.clear();
    for (const client::InputProblem& p : loaded.problems) {
      // An empty cluster is no problem for an audit.
      if (p.message.rfind("no objects in", 0) == 0) continue;
      problems_.push_back(p.ToString());
    }
  }
  if (!problems_.empty()) {
    for (const std::string& p : problems_) Log("error", "cluster object: " + p);
    std::lock_guard<std::mutex> lock(mu_);
    ++decide_errors_;
    last_decide_error_ = problems_.front();
    return false;
  }
  v1::DecideRequest request;
  *request.mutable_snapshot() = std::move(loaded.snapshot);
  request.mutable_options()->set_explain(true);
  v1::DecideResponse response;
  grpc::ClientContext context;
  if (options_.server.timeout_seconds > 0) {
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(static_cast<int64_t>(
                             options_.server.timeout_seconds * 1000)));
  }
  const auto start = std::chrono::steady_clock::now();
  const grpc::Status status = stub_->Decide(&context, request, &response);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (!status.ok()) {
    const std::string error = "dsd-server " + options_.server.server + ": " +
                              GrpcCodeName(status.error_code()) + ": " +
                              client::Printable(status.error_message());
    Log("error", "decide failed", {{"error", error}});
    std::lock_guard<std::mutex> lock(mu_);
    ++decide_errors_;
    last_decide_error_ = error;
    return false;
  }
  const DriftChange change = tracker_.Update(response, /*all=*/true, now);
  LogChange(change);
  std::lock_guard<std::mutex> lock(mu_);
  ++decides_;
  decide_seconds_sum_ += seconds;
  last_decide_error_.clear();
  last_decide_at_ = Rfc3339(now);
  return true;
}

void Auditor::WriteReport(Clock::time_point now) {
  std::vector<Action> drift = tracker_.Drift(now);
  nlohmann::json report;
  {
    std::lock_guard<std::mutex> lock(mu_);
    drift_ = drift;
    report = {{"kind", "DriftReport"},
              {"generatedAt", Rfc3339(now)},
              {"cluster", config_.server},
              {"server", options_.server.server},
              {"synced", ready_.load()},
              {"driftAfterSeconds", options_.drift_after_seconds},
              {"pendingActions", tracker_.pending()},
              {"lastDecide",
               {{"at", last_decide_at_}, {"error", last_decide_error_}}},
              {"problems", problems_},
              {"watches", nlohmann::json::object()},
              {"daemonSets", nlohmann::json::array()}};
  }
  for (const auto& r : reflectors_) {
    report["watches"][r->resource().plural] = {{"state", r->state()},
                                               {"synced", r->synced()},
                                               {"objects", r->size()},
                                               {"lists", r->relists()},
                                               {"lastError", r->last_error()}};
  }
  std::map<std::string, nlohmann::json> by_ds;
  for (const Action& a : drift) {
    nlohmann::json& ds = by_ds[a.namespace_ + "/" + a.daemon_set];
    if (ds.is_null()) {
      ds = {{"namespace", a.namespace_},
            {"name", a.daemon_set},
            {"drift", nlohmann::json::array()}};
    }
    ds["drift"].push_back(ActionJson(a));
  }
  for (auto& [key, ds] : by_ds) report["daemonSets"].push_back(std::move(ds));
  report["driftTotal"] = drift.size();
  if (options_.report_path.empty()) return;
  const std::string tmp = options_.report_path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
    if (!out) {
      Log("error", "cannot write report", {{"file", tmp}});
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, options_.report_path, ec);
  if (ec) {
    Log("error", "cannot write report",
        {{"file", options_.report_path}, {"error", ec.message()}});
  }
}

std::string Auditor::Metrics() const {
  std::string out;
  std::lock_guard<std::mutex> lock(mu_);
  out +=
      "# HELP dsd_adapter_drift Planned actions pending longer than "
      "--drift_after.\n# TYPE dsd_adapter_drift gauge\n";
  std::map<std::string, int> drift;
  for (const Action& a : drift_) {
    ++drift["namespace=\"" + LabelValue(a.namespace_) + "\",daemonset=\"" +
            LabelValue(a.daemon_set) + "\",action=\"" + a.action +
            "\",reason=\"" + LabelValue(a.reason) + "\""];
  }
  for (const auto& [labels, n] : drift) {
    out += "dsd_adapter_drift{" + labels + "} " + std::to_string(n) + "\n";
  }
  out +=
      "# HELP dsd_adapter_watch_synced 1 when the kind's cache is synced.\n"
      "# TYPE dsd_adapter_watch_synced gauge\n";
  for (const auto& r : reflectors_) {
    out += "dsd_adapter_watch_synced{resource=\"" + r->resource().plural +
           "\"} " + (r->synced() ? "1" : "0") + "\n";
  }
  out +=
      "# HELP dsd_adapter_api_calls_total Kubernetes API calls by verb and "
      "HTTP code (0: no answer).\n# TYPE dsd_adapter_api_calls_total "
      "counter\n";
  for (const auto& [key, n] : api_calls_) {
    out += "dsd_adapter_api_calls_total{verb=\"" + key.first + "\",code=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  out +=
      "# HELP dsd_adapter_decide_seconds Decide calls to dsd-server.\n"
      "# TYPE dsd_adapter_decide_seconds summary\n"
      "dsd_adapter_decide_seconds_sum " +
      std::to_string(decide_seconds_sum_) +
      "\ndsd_adapter_decide_seconds_count " + std::to_string(decides_) +
      "\n# TYPE dsd_adapter_decide_errors_total counter\n"
      "dsd_adapter_decide_errors_total " +
      std::to_string(decide_errors_) + "\n";
  return out;
}

int Auditor::Run(const std::atomic<bool>& stop, bool once) {
  client::Connection connection = client::Connect(options_.server);
  if (!connection.stub) {
    Log("error", "cannot use dsd-server", {{"error", connection.error}});
    return kExitCannotStart;
  }
  stub_ = std::move(connection.stub);
  for (const std::string& w : config_.warnings) Log("warning", w);
  Log("info", "audit starting",
      {{"cluster", config_.server},
       {"source", config_.source},
       {"server", options_.server.server},
       {"namespace",
        options_.namespace_.empty() ? "(all)" : options_.namespace_},
       {"selector", options_.selector}});
  for (auto& r : reflectors_) r->Start();

  std::mt19937_64 rng{std::random_device{}()};
  uint64_t decided_generation = ~uint64_t{0};
  uint64_t seen_generation = ~uint64_t{0};
  auto last_change = std::chrono::steady_clock::now();
  auto last_decide = std::chrono::steady_clock::time_point();
  auto next_attempt = std::chrono::steady_clock::time_point();
  auto last_report = std::chrono::steady_clock::time_point();
  int failures = 0;
  bool was_ready = false;
  const auto started = std::chrono::steady_clock::now();
  while (!stop.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const auto steady = std::chrono::steady_clock::now();
    const Clock::time_point now = Clock::now();
    bool synced = true;
    uint64_t generation = 0;
    for (const auto& r : reflectors_) {
      synced = synced && r->synced();
      generation += r->generation();
    }
    ready_.store(synced && was_ready);
    if (synced && !was_ready) {
      was_ready = true;
      ready_.store(true);
      Log("info", "cache synced");
    }
    if (once && !synced &&
        steady - started > std::chrono::seconds(kOnceSyncSeconds)) {
      for (const auto& r : reflectors_) {
        if (!r->synced()) {
          Log("error", "cannot sync with the API server",
              {{"resource", r->resource().plural}, {"error", r->last_error()}});
        }
      }
      WriteReport(now);
      return kExitCannotStart;
    }
    if (generation != seen_generation) {
      seen_generation = generation;
      last_change = steady;
    }
    bool report = steady - last_report >= std::chrono::seconds(1);
    // Never on an unsynced cache: a missing pod would read as a create.
    const bool due =
        generation != decided_generation ||
        steady - last_decide >= std::chrono::milliseconds(static_cast<int64_t>(
                                    options_.resync_seconds * 1000));
    if (synced && due && steady >= next_attempt &&
        steady - last_change >= std::chrono::milliseconds(static_cast<int64_t>(
                                    options_.debounce_seconds * 1000))) {
      last_decide = steady;
      if (Decide(now)) {
        decided_generation = generation;
        failures = 0;
        next_attempt = steady;
      } else {
        // Backoff with jitter, 0.5 s doubling to 30 s.
        const double base = std::min(30.0, 0.5 * (1 << std::min(failures, 6)));
        ++failures;
        std::uniform_real_distribution<double> jitter(0.5, 1.0);
        next_attempt = steady + std::chrono::milliseconds(static_cast<int64_t>(
                                    base * jitter(rng) * 1000));
        decided_generation = generation;  // retried on next_attempt
        last_decide = std::chrono::steady_clock::time_point();
      }
      report = true;
      if (once) {
        WriteReport(now);
        const bool ok = failures == 0;
        if (!ok) return kExitServerUnusable;
        return tracker_.Drift(now).empty() ? kExitOk : kExitDrift;
      }
    } else if (synced) {
      const DriftChange change = tracker_.Tick(now);
      if (!change.started.empty()) {
        LogChange(change);
        report = true;
      }
    }
    if (report) {
      WriteReport(now);
      last_report = steady;
    }
  }
  Log("info", "audit stopping");
  WriteReport(Clock::now());
  return kExitOk;
}

}  // namespace dsd::adapter
