// One acceptor thread queues connections (bounded); a few workers serve
// them, one request each. Every wait is a poll() that also watches a wake
// pipe, with the connection's read and whole-request deadlines, so that
// neither a silent client nor one sending a byte at a time holds a worker
// for long, and Stop cuts everything at once.
#include "server/transport/metrics_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace dsd::transport {
namespace {

constexpr char kContentType[] = "text/plain; version=0.0.4";

struct HostPort {
  std::string host;
  int port = 0;
};

// "host:port" or "[v6]:port"; an empty host means every interface.
absl::StatusOr<HostPort> SplitHostPort(std::string_view address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string_view::npos ||
      !absl::SimpleAtoi(std::string(address.substr(colon + 1)), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metrics address \"", std::string(address),
        "\" is not host:port (e.g. 127.0.0.1:9090, [::1]:9090, :9090)"));
  }
  std::string host(address.substr(0, colon));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  return HostPort{std::move(host), port};
}

std::string ErrnoText(int error) {
  std::string text = std::strerror(error);
  if (!text.empty()) {
    text[0] =
        static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  }
  return text;
}

// A listening socket on host:port (SO_REUSEADDR, not SO_REUSEPORT: a
// second process must not share the port); -1 with errno's text in
// `error`.
int Listen(const HostPort& where, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* addresses = nullptr;
  const std::string port = std::to_string(where.port);
  if (const int rc =
          getaddrinfo(where.host.c_str(), port.c_str(), &hints, &addresses);
      rc != 0) {
    error = gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = addresses; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      error = ErrnoText(errno);
      continue;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, a->ai_addr, a->ai_addrlen) != 0 || listen(fd, 128) != 0) {
      error = ErrnoText(errno);
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(addresses);
  return fd;
}

int BoundPort(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    return 0;
  }
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
  }
  return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
}

// Waits for `events` on `fd` until `deadline`, or until the wake pipe is
// readable (Stop). True when `fd` is ready.
bool Await(int fd, short events, int wake_fd, absl::Time deadline) {
  while (true) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd fds[2] = {{fd, events, 0}, {wake_fd, POLLIN, 0}};
    const int rc = poll(fds, 2,
                        static_cast<int>(std::max<int64_t>(
                            1, absl::ToInt64Milliseconds(left))));
    if (rc < 0 && errno == EINTR) continue;
    if (rc <= 0 || (fds[1].revents & POLLIN) != 0) return false;
    return (fds[0].revents & (events | POLLHUP | POLLERR)) != 0;
  }
}

std::string Response(int status, std::string_view reason,
                     std::string_view content_type, std::string_view body) {
  std::string out = "HTTP/1.1 " + std::to_string(status) + " ";
  out.append(reason);
  out.append("\r\nContent-Type: ");
  out.append(content_type);
  out.append("\r\nContent-Length: " + std::to_string(body.size()));
  out.append("\r\nConnection: close\r\n\r\n");
  out.append(body);
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    std::string_view address, const Metrics& metrics,
    const MetricsServerOptions& options) {
  absl::StatusOr<HostPort> host_port = SplitHostPort(address);
  if (!host_port.ok()) return host_port.status();

  std::unique_ptr<MetricsServer> server(new MetricsServer(metrics, options));
  std::string error;
  server->listen_fd_ = Listen(*host_port, error);
  if (server->listen_fd_ < 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen for metrics on ", std::string(address), ": ", error));
  }
  if (pipe2(server->wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot start the metrics endpoint: ", ErrnoText(errno)));
  }
  server->port_ = BoundPort(server->listen_fd_);
  server->host_ = host_port->host;
  server->acceptor_ = std::thread([s = server.get()] { s->AcceptLoop(); });
  const int workers = std::max(1, options.workers);
  for (int i = 0; i < workers; ++i) {
    server->workers_.emplace_back([s = server.get()] { s->WorkLoop(); });
  }
  return server;
}

MetricsServer::MetricsServer(const Metrics& metrics,
                             const MetricsServerOptions& options)
    : metrics_(metrics), options_(options) {}

MetricsServer::~MetricsServer() {
  Stop();
  if (listen_fd_ >= 0) close(listen_fd_);
  for (const int fd : wake_) {
    if (fd >= 0) close(fd);
  }
}

void MetricsServer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
  }
  ready_.notify_all();
  // Never read: the pipe stays readable and wakes every poll.
  if (wake_[1] >= 0) {
    const char byte = 0;
    while (write(wake_[1], &byte, 1) < 0 && errno == EINTR) {
    }
  }
  if (acceptor_.joinable()) acceptor_.join();
  // Connections the kernel accepted and we did not are reset with it.
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
  for (std::thread& worker : workers_) worker.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (const int fd : queue_) close(fd);
  queue_.clear();
}

void MetricsServer::AcceptLoop() {
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    const int rc = poll(fds, 2, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0 || (fds[1].revents & POLLIN) != 0) return;
    const int fd =
        accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) continue;  // the client left already, or out of fds
    bool queued = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stopping_ && queue_.size() < options_.max_queued_connections) {
        queue_.push_back(fd);
        queued = true;
      }
    }
    if (queued) {
      ready_.notify_one();
    } else {
      close(fd);
    }
  }
}

void MetricsServer::WorkLoop() {
  while (true) {
    int fd = -1;
    {
      std::unique_lock<std::mutex> lock(mu_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      fd = queue_.front();
      queue_.pop_front();
    }
    Serve(fd);
    close(fd);
  }
}

void MetricsServer::Serve(int fd) {
  const absl::Time deadline = absl::Now() + options_.request_timeout;
  std::string request;
  size_t head_end = std::string::npos;
  char buffer[2048];
  while (head_end == std::string::npos) {
    if (request.size() > options_.max_request_bytes) break;
    if (!Await(fd, POLLIN, wake_[0],
               std::min(deadline, absl::Now() + options_.read_timeout))) {
      return;  // silent, too slow, or stopping: close without a word
    }
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return;
    request.append(buffer, static_cast<size_t>(n));
    head_end = request.find("\r\n\r\n");
  }

  std::string response;
  if (head_end == std::string::npos || head_end > options_.max_request_bytes) {
    response = Response(431, "Request Header Fields Too Large", "text/plain",
                        "request head too large\n");
  } else {
    // "GET /metrics?query HTTP/1.1"
    const std::string_view line =
        std::string_view(request).substr(0, request.find("\r\n"));
    const size_t first_space = line.find(' ');
    const size_t second_space = line.find(' ', first_space + 1);
    if (first_space == std::string_view::npos ||
        second_space == std::string_view::npos ||
        line.substr(second_space + 1).rfind("HTTP/1.", 0) != 0) {
      response = Response(400, "Bad Request", "text/plain", "bad request\n");
    } else {
      const std::string_view method = line.substr(0, first_space);
      std::string_view target =
          line.substr(first_space + 1, second_space - first_space - 1);
      target = target.substr(0, target.find('?'));
      if (target != "/metrics") {
        response = Response(404, "Not Found", "text/plain", "not found\n");
      } else if (method != "GET") {
        response =
            Response(405, "Method Not Allowed", "text/plain", "only GET\n");
      } else {
        response = Response(200, "OK", kContentType, metrics_.RenderText());
      }
    }
  }

  size_t sent = 0;
  while (sent < response.size()) {
    const ssize_t n =
        send(fd, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!Await(fd, POLLOUT, wake_[0], deadline)) return;
    } else {
      return;
    }
  }
  shutdown(fd, SHUT_WR);
}

}  // namespace dsd::transport
