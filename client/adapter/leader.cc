#include "client/adapter/leader.h"

#include <random>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "client/adapter/json_fields.h"

namespace dsd::adapter {
namespace {

// metav1.MicroTime.
std::string MicroTime() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                          absl::UTCTimeZone());
}

int64_t Seconds(std::chrono::milliseconds d) {
  return std::max<int64_t>(1, (d.count() + 999) / 1000);
}

}  // namespace

std::string CheckLeaderOptions(const LeaderOptions& o) {
  if (o.lease_duration <= o.renew_deadline) {
    return "the lease duration must be longer than the renew deadline";
  }
  if (o.renew_deadline.count() * 10 <= o.retry_period.count() * 12) {
    return "the renew deadline must be longer than 1.2 x the retry period";
  }
  if (o.identity.empty()) return "the identity must not be empty";
  return "";
}

LeaderElector::LeaderElector(kube::Client& client, LeaderOptions options,
                             LogFn log)
    : client_(client), options_(std::move(options)), log_(std::move(log)) {}

LeaderElector::~LeaderElector() { Stop(); }

void LeaderElector::Start() {
  thread_ = std::thread([this] { Run(); });
}

void LeaderElector::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_.exchange(true)) return;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!leader_.exchange(false) || !lease_.is_object()) return;
  // Released: another replica takes over at its next try.
  nlohmann::json released = lease_;
  released["spec"]["holderIdentity"] = "";
  released["spec"]["leaseDurationSeconds"] = 1;
  released["spec"]["renewTime"] = released["spec"]["acquireTime"] = MicroTime();
  const absl::StatusOr<nlohmann::json> done = client_.Update(
      kube::kLeases, options_.namespace_, options_.name, "", released);
  log_(done.ok() ? "info" : "warning",
       done.ok() ? "leader lease released" : "cannot release the leader lease",
       {{"lease", options_.namespace_ + "/" + options_.name},
        {"error", done.ok() ? "" : std::string(done.status().message())}});
}

void LeaderElector::Run() {
  std::mt19937_64 rng{std::random_device{}()};
  std::uniform_real_distribution<double> jitter(1.0, 1.2);
  const std::string lease = options_.namespace_ + "/" + options_.name;
  while (!stop_.load()) {
    const bool held = TryAcquireOrRenew();
    const Steady::time_point now = Steady::now();
    if (held) {
      renewed_at_ = now;
      if (!leader_.exchange(true)) {
        log_("info", "became the leader: acting",
             {{"lease", lease}, {"identity", options_.identity}});
      }
    } else if (leader_.load() &&
               (now - renewed_at_ >= options_.renew_deadline ||
                Text(Member(lease_, "spec"), "holderIdentity") !=
                    options_.identity)) {
      leader_.store(false);
      log_("error", "lost the leader lease: no longer acting",
           {{"lease", lease}, {"identity", options_.identity}});
    }
    // The leader renews every retry period; the others try with jitter.
    const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
        options_.retry_period * (held ? 1.0 : jitter(rng)));
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait_for(lock, wait, [this] { return stop_.load(); });
  }
}

bool LeaderElector::TryAcquireOrRenew() {
  const std::string stamp = MicroTime();
  const Steady::time_point now = Steady::now();
  auto write = [&](nlohmann::json record) {
    absl::StatusOr<nlohmann::json> stored = client_.Update(
        kube::kLeases, options_.namespace_, options_.name, "", record);
    if (!stored.ok()) return false;
    lease_ = std::move(*stored);
    observed_spec_ = Member(lease_, "spec").dump();
    observed_at_ = now;
    return true;
  };
  // The leader renews from what it last wrote, without a GET.
  if (leader_.load() && lease_.is_object()) {
    nlohmann::json renewed = lease_;
    renewed["spec"]["renewTime"] = stamp;
    if (write(std::move(renewed))) return true;
  }
  absl::StatusOr<nlohmann::json> got =
      client_.GetObject(kube::kLeases, options_.namespace_, options_.name);
  if (!got.ok() && kube::HttpCode(got.status()) == 404) {
    const nlohmann::json record = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", options_.name}}},
        {"spec",
         {{"holderIdentity", options_.identity},
          {"leaseDurationSeconds", Seconds(options_.lease_duration)},
          {"acquireTime", stamp},
          {"renewTime", stamp},
          {"leaseTransitions", 0}}}};
    absl::StatusOr<nlohmann::json> created =
        client_.Create(kube::kLeases, options_.namespace_, record);
    if (!created.ok()) return false;
    lease_ = std::move(*created);
    observed_spec_ = Member(lease_, "spec").dump();
    observed_at_ = now;
    return true;
  }
  if (!got.ok()) return false;
  lease_ = *got;
  const nlohmann::json& spec = Member(lease_, "spec");
  // Validity by our own clock: when we saw the record last change.
  if (spec.dump() != observed_spec_) {
    observed_spec_ = spec.dump();
    observed_at_ = now;
  }
  const std::string holder = Text(spec, "holderIdentity");
  const auto duration = std::chrono::seconds(Int(spec, "leaseDurationSeconds"));
  if (!holder.empty() && holder != options_.identity &&
      observed_at_ + duration > now) {
    return false;  // another's, and valid
  }
  nlohmann::json taken = lease_;
  nlohmann::json& out = taken["spec"];
  out["holderIdentity"] = options_.identity;
  out["leaseDurationSeconds"] = Seconds(options_.lease_duration);
  out["renewTime"] = stamp;
  if (holder != options_.identity) {
    out["acquireTime"] = stamp;
    out["leaseTransitions"] = Int(spec, "leaseTransitions") + 1;
  }
  return write(std::move(taken));
}

}  // namespace dsd::adapter
