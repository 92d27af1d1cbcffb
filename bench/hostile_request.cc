// hostile_request: writes the hostile requests of issue 11
// (bench/hostile_requests.h) to files, and sends such a file to a dsd-server
// on loopback, for step 7 of scripts/bench.sh (peak RSS, Health latency
// under hostile requests). Deliberately small: no retries, one channel.
//
//   hostile_request write --shape K [--scale issue|bench] [--n N] [--m M] FILE
//       writes the serialized request; prints a JSON line describing it.
//   hostile_request send --server 127.0.0.1:PORT --method decide|explain
//       [--timeout S] [--repeat_seconds W] [--max_calls C] FILE
//       sends FILE's bytes as the request, each call with a deadline of S
//       seconds (default 5); with W > 0, again and again (one at a time)
//       until W seconds passed or C calls (default 1000) were made. Prints
//       a JSON line: calls, status codes, the first non-OK message, the
//       longest call, the first call's status, the response bytes. Responses
//       over 64 MB are refused by this client and reported as
//       RESPONSE_TOO_LARGE (the server built them: that is the point of shape
//       5).
//
// Exit status: 0 when every call got a status (whatever it was), 2 on
// wrong usage or an unreadable file.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "bench/hostile_requests.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kMaxResponseBytes = 64 << 20;

int Usage(const char* why) {
  std::cerr << "hostile_request: " << why
            << "\nusage: hostile_request write --shape 1..9 "
               "[--scale issue|bench] [--n N] [--m M] FILE\n"
               "       hostile_request send --server 127.0.0.1:PORT "
               "--method decide|explain [--timeout S] [--repeat_seconds W] "
               "[--max_calls C] FILE\n";
  return 2;
}

// "--flag value" pairs and one positional argument.
struct Args {
  std::map<std::string, std::string> flags;
  std::string file;
  bool ok = true;
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 2; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--")) {
      if (i + 1 >= argc) {
        a.ok = false;
        break;
      }
      a.flags[std::string(arg.substr(2))] = argv[++i];
    } else if (a.file.empty()) {
      a.file = arg;
    } else {
      a.ok = false;
    }
  }
  a.ok = a.ok && !a.file.empty();
  return a;
}

std::string Flag(const Args& a, const std::string& name,
                 const std::string& fallback) {
  const auto it = a.flags.find(name);
  return it == a.flags.end() ? fallback : it->second;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

int Write(const Args& a) {
  const int k = std::atoi(Flag(a, "shape", "0").c_str());
  if (k < 1 || k > dsd::bench::kHostileShapes) return Usage("--shape 1..9");
  const auto shape = static_cast<dsd::bench::HostileShape>(k);
  const std::string scale = Flag(a, "scale", "issue");
  if (scale != "issue" && scale != "bench") return Usage("--scale");
  dsd::bench::ShapeSize size = dsd::bench::DefaultSize(
      shape,
      scale == "issue" ? dsd::bench::Scale::kIssue : dsd::bench::Scale::kBench);
  size.n = std::atoll(Flag(a, "n", std::to_string(size.n)).c_str());
  size.m = std::atoll(Flag(a, "m", std::to_string(size.m)).c_str());
  if (size.n < 0 || size.m < 0 || size.n > 100'000'000 ||
      size.m > 100'000'000) {
    return Usage("--n and --m: 0..100000000");
  }
  const std::string bytes = dsd::bench::HostileRequestBytes(shape, size);
  std::ofstream out(a.file, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return Usage("cannot write the file");
  std::cout << "{\"shape\": " << k
            << ", \"name\": " << JsonString(dsd::bench::ShapeName(shape))
            << ", \"method\": "
            << (dsd::bench::IsExplain(shape) ? "\"explain\"" : "\"decide\"")
            << ", \"n\": " << size.n << ", \"m\": " << size.m
            << ", \"request_bytes\": " << bytes.size() << "}\n";
  return 0;
}

bool IsLoopback(std::string_view server) {
  return server.starts_with("127.") || server.starts_with("localhost:") ||
         server.starts_with("[::1]:") || server.starts_with("ipv4:127.");
}

int Send(const Args& a) {
  const std::string server = Flag(a, "server", "");
  if (!IsLoopback(server)) return Usage("--server must be a loopback address");
  const std::string method = Flag(a, "method", "decide");
  if (method != "decide" && method != "explain") return Usage("--method");
  const std::string path = method == "decide"
                               ? "/dsd.v1.DaemonSetScheduler/Decide"
                               : "/dsd.v1.DaemonSetScheduler/Explain";
  const double timeout = std::atof(Flag(a, "timeout", "5").c_str());
  const double repeat = std::atof(Flag(a, "repeat_seconds", "0").c_str());
  const int max_calls = std::atoi(Flag(a, "max_calls", "1000").c_str());
  if (!(timeout > 0 && timeout <= 600) || !(repeat >= 0 && repeat <= 3600) ||
      max_calls < 1) {
    return Usage(
        "--timeout 0..600, --repeat_seconds 0..3600, --max_calls >= 1");
  }
  std::ifstream in(a.file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)),
                          std::istreambuf_iterator<char>());
  if (!in && !in.eof()) return Usage("cannot read the file");

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxResponseBytes);
  args.SetMaxSendMessageSize(-1);
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);  // see client/load/load.cc
  auto channel = grpc::CreateCustomChannel(
      server, grpc::InsecureChannelCredentials(), args);
  grpc::GenericStub stub(channel);
  grpc::Slice slice(bytes.data(), bytes.size());

  std::map<std::string, int> codes;
  std::string first_error;
  std::string first_code;
  double longest_ms = 0;
  size_t response_bytes = 0;
  int calls = 0;
  // Prints the JSON line and ends the process.
  const auto report = [&]() {
    std::ostringstream out;
    out << "{\"method\": " << JsonString(method)
        << ", \"request_bytes\": " << bytes.size() << ", \"calls\": " << calls
        << ", \"codes\": {";
    bool first = true;
    for (const auto& [code, n] : codes) {
      out << (first ? "" : ", ") << JsonString(code) << ": " << n;
      first = false;
    }
    out << "}, \"first_status\": " << JsonString(first_code)
        << ", \"longest_ms\": " << longest_ms
        << ", \"response_bytes\": " << response_bytes
        << ", \"first_error\": " << JsonString(first_error) << "}\n";
    std::cout << out.str() << std::flush;
    // No teardown: with the server still busy on abandoned calls, gRPC's
    // shutdown may wait for it, and the report must reach the file.
    std::_Exit(0);
  };
  const auto start = Clock::now();
  do {
    grpc::ClientContext context;
    context.set_deadline(
        std::chrono::system_clock::now() +
        std::chrono::milliseconds(static_cast<int64_t>(timeout * 1000)));
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    const auto t0 = Clock::now();
    stub.UnaryCall(&context, path, grpc::StubOptions(), &request, &response,
                   [&done](const grpc::Status& s) { done.set_value(s); });
    // The deadline ends every call; should the callback still not come,
    // cancel, then report and end (in bench.sh's step 7 senders were once
    // killed by its `timeout` having printed nothing).
    std::future<grpc::Status> result = done.get_future();
    const auto grace =
        std::chrono::milliseconds(static_cast<int64_t>(timeout * 1000) + 2000);
    if (result.wait_for(grace) != std::future_status::ready) {
      context.TryCancel();
      if (result.wait_for(std::chrono::seconds(2)) !=
          std::future_status::ready) {
        ++calls;
        ++codes["CLIENT_STUCK"];
        if (first_code.empty()) first_code = "CLIENT_STUCK";
        report();
      }
    }
    const grpc::Status status = result.get();
    const double ms =
        std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    ++calls;
    longest_ms = std::max(longest_ms, ms);
    std::string code;
    if (status.ok()) {
      code = "OK";
      response_bytes = response.Length();
    } else if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED &&
               status.error_message().find("larger than max") !=
                   std::string::npos) {
      code = "RESPONSE_TOO_LARGE";
    } else {
      // gRPC's codes are absl's, numbers and names alike.
      code = absl::StatusCodeToString(
          static_cast<absl::StatusCode>(status.error_code()));
    }
    if (!status.ok() && first_error.empty()) {
      first_error = status.error_message().substr(0, 300);
    }
    if (first_code.empty()) first_code = code;
    ++codes[code];
  } while (calls < max_calls &&
           std::chrono::duration<double>(Clock::now() - start).count() <
               repeat);

  report();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage("a command: write or send");
  const std::string_view command = argv[1];
  const Args a = Parse(argc, argv);
  if (!a.ok) return Usage("bad arguments");
  if (command == "write") return Write(a);
  if (command == "send") return Send(a);
  return Usage("a command: write or send");
}
