// The load generator: a sender thread (the first calls of the closed loop,
// or the open loop's pacing), polling threads completing calls from the
// run's completion queue (and, in the closed loop, sending the next), and
// the caller's thread watching the clock, printing progress and draining
// at the end. Not gRPC's callback API: in gRPC 1.51 its threads sleep
// 100 ms after each idle second, which at about one call a second showed
// up as latency dsd-server never had (see server/transport/grpc_service.h).
#include "client/load/load.h"

#include <grpc/grpc.h>
#include <grpcpp/generic/generic_stub.h>
#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "client/load/latency_histogram.h"
#include "server/common/handoff.h"

namespace dsd::client {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kChannelIndexArg[] = "dsd.load.channel_index";
// Without a server answering, stop after this long rather than spin.
constexpr auto kUnusableAfter = std::chrono::seconds(1);
// With no per-call deadline, cancel what is still in flight this long after
// the end.
constexpr auto kDrainWithoutDeadline = std::chrono::seconds(30);
// One counter per status code, OK (0) to UNAUTHENTICATED (16), then other.
constexpr size_t kCodeSlots = 18;

size_t CodeSlot(grpc::StatusCode code) {
  const auto i = static_cast<size_t>(code);
  return i < kCodeSlots - 1 ? i : kCodeSlots - 1;
}

double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double Seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// One call in flight. Owned by the run from Issue until OnDone deletes it;
// linked into the run's in-flight list (guarded by the run's mutex) so the
// drain can cancel it.
struct Call {
  grpc::ClientContext context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
  grpc::Status status;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> reader;
  Clock::time_point intended;  // when it was (due to be) sent
  bool measured = false;
  Call* prev = nullptr;
  Call* next = nullptr;
};

// One run of RunLoadGenerator. Thread-safe as used: counters are atomics,
// the in-flight list and count change under mu_.
class LoadRun {
 public:
  LoadRun(const std::vector<std::shared_ptr<grpc::Channel>>& channels,
          const std::string& request, const LoadOptions& options)
      : options_(options),
        method_(LoadMethodPath(options.method)),
        request_(request),
        closed_loop_(options.rate <= 0) {
    for (const auto& channel : channels) {
      stubs_.push_back(std::make_unique<grpc::GenericStub>(channel));
    }
  }

  LoadResult Run(std::ostream* progress);

 private:
  // Closed loop: whether to send another call at `now`, and if so whether
  // it is measured (consuming the request budget).
  bool ClaimNext(Clock::time_point now, bool& measured);
  void Issue(Clock::time_point intended, bool measured);
  // The call's completion (its status in call->status); deletes it.
  void OnDone(Call* call);
  void SendClosedLoop();
  void SendOpenLoop();
  void SenderDone();
  bool Unusable(Clock::time_point now) const;
  void PrintProgress(std::ostream& out, Clock::time_point now);
  // Waits (holding `lock` on mu_) for every call to complete, cancelling
  // the remainder after the drain limit.
  void Drain(std::unique_lock<std::mutex>& lock);
  LoadResult Result(Clock::time_point finish, double cpu_seconds);

  const LoadOptions options_;
  const std::string method_;
  const grpc::Slice request_;
  const bool closed_loop_;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  std::atomic<uint64_t> next_stub_{0};
  // Every call's completion; Run polls it on kPollers threads and shuts it
  // down once the calls have drained.
  grpc::CompletionQueue queue_;
  static constexpr int kPollers = 2;

  Clock::time_point start_;          // warm-up begins
  Clock::time_point measure_start_;  // measured phase begins
  Clock::time_point end_;            // no call is sent from here on

  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> claimed_{0};  // measured sends (and drops)
  std::atomic<int64_t> dropped_{0};

  // Every completion, warm-up included: for progress and Unusable().
  std::atomic<int64_t> completed_{0};
  std::atomic<int64_t> succeeded_{0};
  std::atomic<int64_t> unavailable_{0};
  // UNAVAILABLE answers since the last other answer, and the most seen.
  std::atomic<int64_t> consecutive_unavailable_{0};
  std::atomic<int64_t> max_consecutive_unavailable_{0};
  // Measured completions.
  std::array<std::atomic<int64_t>, kCodeSlots> by_code_{};
  std::atomic<int64_t> measured_completed_{0};
  std::atomic<int64_t> response_bytes_{0};
  LatencyHistogram latency_;

  std::atomic<bool> have_first_error_{false};
  std::mutex first_error_mu_;
  grpc::Status first_error_;  // guarded by first_error_mu_

  std::mutex mu_;
  std::condition_variable cv_;
  Call* in_flight_list_ = nullptr;     // guarded by mu_
  std::atomic<int64_t> in_flight_{0};  // changed under mu_
  bool sender_done_ = false;           // guarded by mu_

  int64_t last_progress_completed_ = 0;  // the caller's thread only
  Clock::time_point last_progress_time_;
  size_t last_progress_width_ = 0;
};

bool LoadRun::ClaimNext(Clock::time_point now, bool& measured) {
  if (stopping_.load(std::memory_order_relaxed) || now >= end_) return false;
  measured = now >= measure_start_;
  if (measured && options_.requests > 0 &&
      claimed_.fetch_add(1, std::memory_order_relaxed) >= options_.requests) {
    return false;
  }
  return true;
}

void LoadRun::Issue(Clock::time_point intended, bool measured) {
  auto* call = new Call;
  call->intended = intended;
  call->measured = measured;
  call->request = grpc::ByteBuffer(&request_, 1);  // a reference, no copy
  if (options_.timeout_seconds > 0) {
    call->context.set_deadline(std::chrono::system_clock::now() +
                               std::chrono::microseconds(static_cast<int64_t>(
                                   options_.timeout_seconds * 1e6)));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    call->next = in_flight_list_;
    if (in_flight_list_ != nullptr) in_flight_list_->prev = call;
    in_flight_list_ = call;
    in_flight_.fetch_add(1, std::memory_order_relaxed);
  }
  grpc::GenericStub& stub =
      *stubs_[next_stub_.fetch_add(1, std::memory_order_relaxed) %
              stubs_.size()];
  call->reader =
      stub.PrepareUnaryCall(&call->context, method_, call->request, &queue_);
  call->reader->StartCall();
  ::dsd::common::HandOff();  // the poller that takes its event reads the call
  call->reader->Finish(&call->response, &call->status, call);
}

void LoadRun::OnDone(Call* call) {
  const grpc::Status& status = call->status;
  const Clock::time_point now = Clock::now();
  const bool ok = status.ok();
  completed_.fetch_add(1, std::memory_order_relaxed);
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    const int64_t run =
        consecutive_unavailable_.fetch_add(1, std::memory_order_relaxed) + 1;
    int64_t seen = max_consecutive_unavailable_.load(std::memory_order_relaxed);
    while (run > seen && !max_consecutive_unavailable_.compare_exchange_weak(
                             seen, run, std::memory_order_relaxed)) {
    }
    if (run == options_.max_consecutive_unavailable) {
      // Wake Run() now: at loopback speed a dead server fails >100,000
      // calls a second.
      stopping_.store(true, std::memory_order_relaxed);
      std::lock_guard<std::mutex> lock(mu_);
      cv_.notify_all();
    }
  } else {
    consecutive_unavailable_.store(0, std::memory_order_relaxed);
  }
  if (ok) {
    succeeded_.fetch_add(1, std::memory_order_relaxed);
  } else {
    if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
      unavailable_.fetch_add(1, std::memory_order_relaxed);
    }
    if (!have_first_error_.load(std::memory_order_acquire)) {
      std::lock_guard<std::mutex> lock(first_error_mu_);
      if (!have_first_error_.load(std::memory_order_relaxed)) {
        first_error_ = status;
        have_first_error_.store(true, std::memory_order_release);
      }
    }
  }
  if (call->measured) {
    const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           now - call->intended)
                           .count();
    latency_.Record(static_cast<uint64_t>(std::max<int64_t>(0, nanos)));
    by_code_[CodeSlot(status.error_code())].fetch_add(
        1, std::memory_order_relaxed);
    if (ok) {
      response_bytes_.fetch_add(static_cast<int64_t>(call->response.Length()),
                                std::memory_order_relaxed);
    }
    measured_completed_.fetch_add(1, std::memory_order_relaxed);
  }
  // The closed loop's next call goes out before this one leaves the
  // in-flight count, so the count reaches 0 only when the loop has ended.
  bool next_measured = false;
  if (closed_loop_ && ClaimNext(now, next_measured)) Issue(now, next_measured);

  // Nothing of this run is touched after the unlock: once the count is 0
  // the caller may return and destroy it.
  std::lock_guard<std::mutex> lock(mu_);
  if (call->prev != nullptr) call->prev->next = call->next;
  if (call->next != nullptr) call->next->prev = call->prev;
  if (in_flight_list_ == call) in_flight_list_ = call->next;
  delete call;
  if (in_flight_.fetch_sub(1, std::memory_order_relaxed) == 1) {
    cv_.notify_all();
  }
}

void LoadRun::SenderDone() {
  std::lock_guard<std::mutex> lock(mu_);
  sender_done_ = true;
  cv_.notify_all();
}

void LoadRun::SendClosedLoop() {
  for (int i = 0; i < options_.concurrency; ++i) {
    bool measured = false;
    const Clock::time_point now = Clock::now();
    if (!ClaimNext(now, measured)) break;
    Issue(now, measured);
  }
  SenderDone();
}

void LoadRun::SendOpenLoop() {
  // Call i is due at start + i / rate. Sleeping until each due time would
  // fall behind at high rates, so every wake-up sends all calls due by
  // then, each timed from its own due time: a late client shows up as
  // latency instead of being hidden (coordinated omission).
  const double interval_nanos = 1e9 / options_.rate;
  for (int64_t i = 0; !stopping_.load(std::memory_order_relaxed); ++i) {
    const Clock::time_point due =
        start_ + std::chrono::nanoseconds(static_cast<int64_t>(
                     std::llround(static_cast<double>(i) * interval_nanos)));
    if (due >= end_) break;
    Clock::time_point now = Clock::now();
    while (due > now && !stopping_.load(std::memory_order_relaxed)) {
      std::this_thread::sleep_until(
          std::min(due, now + std::chrono::milliseconds(50)));
      now = Clock::now();
    }
    if (stopping_.load(std::memory_order_relaxed)) break;
    const bool measured = due >= measure_start_;
    if (measured && options_.requests > 0 &&
        claimed_.fetch_add(1, std::memory_order_relaxed) >= options_.requests) {
      break;
    }
    if (in_flight_.load(std::memory_order_relaxed) >= options_.max_in_flight) {
      if (measured) dropped_.fetch_add(1, std::memory_order_relaxed);
      continue;
    }
    Issue(due, measured);
  }
  SenderDone();
}

bool LoadRun::Unusable(Clock::time_point now) const {
  if (max_consecutive_unavailable_.load(std::memory_order_relaxed) >=
      options_.max_consecutive_unavailable) {
    return true;
  }
  const int64_t completed = completed_.load(std::memory_order_relaxed);
  return now - start_ >= kUnusableAfter && completed > 0 &&
         succeeded_.load(std::memory_order_relaxed) == 0 &&
         unavailable_.load(std::memory_order_relaxed) == completed;
}

void LoadRun::PrintProgress(std::ostream& out, Clock::time_point now) {
  const int64_t completed = completed_.load(std::memory_order_relaxed);
  const double interval = Seconds(now - last_progress_time_);
  const double qps =
      interval > 0
          ? static_cast<double>(completed - last_progress_completed_) / interval
          : 0;
  last_progress_completed_ = completed;
  last_progress_time_ = now;
  int64_t errors = 0;
  for (size_t i = 1; i < kCodeSlots; ++i) {
    errors += by_code_[i].load(std::memory_order_relaxed);
  }
  // A closed-loop completion sends its successor before leaving the count,
  // which may show one call too many for an instant.
  int64_t in_flight = in_flight_.load(std::memory_order_relaxed);
  if (closed_loop_)
    in_flight = std::min<int64_t>(in_flight, options_.concurrency);
  char line[160];
  std::snprintf(
      line, sizeof line,
      "%s %6.1f s  requests %lld  qps %.1f  errors %lld  in flight "
      "%lld",
      now < measure_start_ ? "warmup " : "elapsed",
      Seconds(now < measure_start_ ? now - start_ : now - measure_start_),
      static_cast<long long>(
          measured_completed_.load(std::memory_order_relaxed)),
      qps, static_cast<long long>(errors), static_cast<long long>(in_flight));
  std::string text = line;
  if (options_.progress_in_place) {
    const size_t width = text.size();
    if (width < last_progress_width_) {
      text.append(last_progress_width_ - width, ' ');
    }
    last_progress_width_ = width;
    out << '\r' << text << std::flush;
  } else {
    out << text << '\n' << std::flush;
  }
}

void LoadRun::Drain(std::unique_lock<std::mutex>& lock) {
  const auto drained = [this] {
    return in_flight_.load(std::memory_order_relaxed) == 0;
  };
  // Calls with a deadline end by themselves; a hung server without one
  // must not hang the client.
  if (options_.timeout_seconds > 0) {
    cv_.wait(lock, drained);
    return;
  }
  if (cv_.wait_for(lock, kDrainWithoutDeadline, drained)) return;
  for (Call* call = in_flight_list_; call != nullptr; call = call->next) {
    call->context.TryCancel();
  }
  cv_.wait(lock, drained);
}

LoadResult LoadRun::Run(std::ostream* progress) {
  const double cpu_start = CpuSeconds();
  start_ = Clock::now();
  measure_start_ =
      start_ + std::chrono::duration_cast<Clock::duration>(
                   std::chrono::duration<double>(options_.warmup_seconds));
  end_ = measure_start_ +
         std::chrono::duration_cast<Clock::duration>(
             std::chrono::duration<double>(options_.duration_seconds));
  last_progress_time_ = start_;
  const auto interval = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(options_.progress_interval_seconds));
  Clock::time_point next_progress = start_ + interval;

  std::vector<std::thread> pollers;
  for (int i = 0; i < kPollers; ++i) {
    pollers.emplace_back([this] {
      void* tag = nullptr;
      bool ok = false;
      while (queue_.Next(&tag, &ok)) {
        ::dsd::common::TakeOver();
        OnDone(static_cast<Call*>(tag));
      }
    });
  }
  std::thread sender(
      [this] { closed_loop_ ? SendClosedLoop() : SendOpenLoop(); });
  bool stopped_unusable = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    while (!(sender_done_ && in_flight_.load() == 0)) {
      const Clock::time_point now = Clock::now();
      if (now >= end_) break;
      if (Unusable(now)) {
        stopped_unusable = true;
        break;
      }
      if (progress != nullptr && options_.progress_interval_seconds > 0 &&
          now >= next_progress) {
        lock.unlock();
        PrintProgress(*progress, now);
        lock.lock();
        next_progress += interval;
        continue;
      }
      Clock::time_point wake =
          std::min(end_, now + std::chrono::milliseconds(100));
      if (progress != nullptr && options_.progress_interval_seconds > 0) {
        wake = std::min(wake, next_progress);
      }
      cv_.wait_until(lock, wake);
    }
  }
  // The calls may all have ended (the closed loop stops sending once the
  // limit of UNAVAILABLE answers is hit) before the loop above saw it.
  stopped_unusable =
      stopped_unusable || max_consecutive_unavailable_.load() >=
                              options_.max_consecutive_unavailable;
  stopping_.store(true);
  sender.join();
  Clock::time_point finish;
  {
    std::unique_lock<std::mutex> lock(mu_);
    Drain(lock);
    finish = Clock::now();
  }
  // Every call has completed: nothing is added to the queue any more.
  queue_.Shutdown();
  for (std::thread& poller : pollers) poller.join();
  if (progress != nullptr && options_.progress_interval_seconds > 0) {
    PrintProgress(*progress, finish);
    if (options_.progress_in_place) *progress << '\n' << std::flush;
  }
  LoadResult result = Result(finish, CpuSeconds() - cpu_start);
  result.stopped_unusable = stopped_unusable;
  result.max_consecutive_unavailable = max_consecutive_unavailable_.load();
  return result;
}

LoadResult LoadRun::Result(Clock::time_point finish, double cpu_seconds) {
  LoadResult r;
  r.requests = measured_completed_.load();
  r.ok = by_code_[0].load();
  for (size_t i = 1; i < kCodeSlots; ++i) {
    const int64_t n = by_code_[i].load();
    if (n == 0) continue;
    r.errors[i < kCodeSlots - 1
                 ? StatusCodeName(static_cast<grpc::StatusCode>(i))
                 : "OTHER"] += n;
  }
  r.dropped = dropped_.load();
  r.duration_seconds =
      finish > measure_start_ ? Seconds(finish - measure_start_) : 0;
  r.qps = r.duration_seconds > 0
              ? static_cast<double>(r.requests) / r.duration_seconds
              : 0;
  const auto ms = [](uint64_t nanos) {
    return static_cast<double>(nanos) / 1e6;
  };
  r.latency_ms.p50 = ms(latency_.ValueAtQuantile(0.50));
  r.latency_ms.p90 = ms(latency_.ValueAtQuantile(0.90));
  r.latency_ms.p99 = ms(latency_.ValueAtQuantile(0.99));
  r.latency_ms.p999 = ms(latency_.ValueAtQuantile(0.999));
  r.latency_ms.max = ms(latency_.Max());
  r.request_bytes = static_cast<int64_t>(request_.size());
  r.response_bytes_total = response_bytes_.load();
  r.client_cpu_seconds = cpu_seconds;
  std::lock_guard<std::mutex> lock(first_error_mu_);
  r.first_error = first_error_;
  return r;
}

}  // namespace

bool ParseLoadMethod(std::string_view text, LoadMethod& out) {
  for (LoadMethod m : {LoadMethod::kDecide, LoadMethod::kValidate,
                       LoadMethod::kExplain, LoadMethod::kHealth}) {
    if (text == LoadMethodName(m)) {
      out = m;
      return true;
    }
  }
  return false;
}

const char* LoadMethodName(LoadMethod method) {
  switch (method) {
    case LoadMethod::kDecide:
      return "decide";
    case LoadMethod::kValidate:
      return "validate";
    case LoadMethod::kExplain:
      return "explain";
    case LoadMethod::kHealth:
      return "health";
  }
  return "decide";
}

const char* LoadMethodPath(LoadMethod method) {
  switch (method) {
    case LoadMethod::kDecide:
      return "/dsd.v1.DaemonSetScheduler/Decide";
    case LoadMethod::kValidate:
      return "/dsd.v1.DaemonSetScheduler/Validate";
    case LoadMethod::kExplain:
      return "/dsd.v1.DaemonSetScheduler/Explain";
    case LoadMethod::kHealth:
      return "/grpc.health.v1.Health/Check";
  }
  return "/dsd.v1.DaemonSetScheduler/Decide";
}

std::string ValidateLoadOptions(const LoadOptions& o) {
  if (o.rate < 0 || !std::isfinite(o.rate)) return "--rate must be >= 0";
  if (o.rate == 0 && (o.concurrency < 1 || o.concurrency > 10'000)) {
    return "--concurrency must be between 1 and 10000";
  }
  if (o.max_in_flight < 1) return "--max_in_flight must be >= 1";
  if (!(o.duration_seconds > 0) || o.duration_seconds > 86'400) {
    return "--duration must be > 0 and at most 86400 seconds (a load test "
           "is always bounded in time)";
  }
  if (o.requests < 0) return "--requests must be >= 0 (0: no limit)";
  if (o.channels < 1 || o.channels > 1'000) {
    return "--channels must be between 1 and 1000";
  }
  if (!(o.warmup_seconds >= 0) || o.warmup_seconds > 3'600) {
    return "--warmup must be between 0 and 3600 seconds";
  }
  if (!(o.timeout_seconds >= 0)) return "--timeout must be >= 0";
  if (!(o.progress_interval_seconds >= 0)) {
    return "the progress interval must be >= 0";
  }
  if (o.max_consecutive_unavailable < 1) {
    return "--max_unavailable must be >= 1";
  }
  return "";
}

std::vector<std::shared_ptr<grpc::Channel>> CreateLoadChannels(
    const ConnectionOptions& connection, int count, std::string& error) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  const auto credentials = Credentials(connection, error);
  if (credentials == nullptr) return channels;
  for (int i = 0; i < count; ++i) {
    grpc::ChannelArguments args;
    args.SetLoadBalancingPolicyName("round_robin");
    args.SetMaxReceiveMessageSize(-1);
    args.SetMaxSendMessageSize(-1);
    // Channels with equal arguments share subchannels (one TCP connection)
    // through gRPC's global pool: a local pool and a distinct argument
    // give each channel its own connection.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt(kChannelIndexArg, i);
    // No BDP probing of the response window: responses are small and the
    // loopback round trip is short, and with gRPC 1.51 a BDP ping still
    // pending after large transfers makes the exit-time grpc_shutdown wait
    // about 10 s for its timer (measured: half of the runs with a 2,000-node
    // request took 10 s longer to exit; none with the probe off).
    args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
    channels.push_back(
        grpc::CreateCustomChannel(connection.server, credentials, args));
  }
  return channels;
}

int ConnectLoadChannels(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    double timeout_seconds) {
  const double wait =
      timeout_seconds > 0 ? std::min(timeout_seconds, 10.0) : 10.0;
  const auto deadline =
      std::chrono::system_clock::now() +
      std::chrono::microseconds(static_cast<int64_t>(wait * 1e6));
  for (const auto& channel : channels) channel->GetState(true);
  int ready = 0;
  for (const auto& channel : channels) {
    while (true) {
      const grpc_connectivity_state state = channel->GetState(true);
      if (state == GRPC_CHANNEL_READY) {
        ++ready;
        break;
      }
      // A refused connection is final for this check; the run will show
      // the calls failing.
      if (state == GRPC_CHANNEL_TRANSIENT_FAILURE ||
          state == GRPC_CHANNEL_SHUTDOWN ||
          !channel->WaitForStateChange(state, deadline)) {
        break;
      }
    }
  }
  return ready;
}

LoadResult RunLoadGenerator(
    const std::vector<std::shared_ptr<grpc::Channel>>& channels,
    const std::string& request, const LoadOptions& options,
    std::ostream* progress) {
  LoadRun run(channels, request, options);
  return run.Run(progress);
}

}  // namespace dsd::client
