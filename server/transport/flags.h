// dsd-server's command-line flags. The ABSL_FLAGs are defined only in
// flags.cc; main parses the command line once and calls
// ServerOptionsFromFlags, and nothing else reads a flag.
#ifndef DSD_SERVER_TRANSPORT_FLAGS_H_
#define DSD_SERVER_TRANSPORT_FLAGS_H_

#include "absl/status/statusor.h"
#include "server/transport/server.h"

namespace dsd::transport {

// The parsed flags as ServerOptions (logging included). INVALID_ARGUMENT
// naming the flag for a value out of range (negative counts, a
// --max_request_bytes of 0 or over 2 GiB - 1, a --shutdown_grace outside
// [0, 86400] or a --lameduck outside [0, 3600] seconds),
// an unknown --log_level or --log_format, or TLS flags that do not go
// together (--tls_cert without --tls_key, --tls_client_ca without TLS).
absl::StatusOr<ServerOptions> ServerOptionsFromFlags();

}  // namespace dsd::transport

#endif  // DSD_SERVER_TRANSPORT_FLAGS_H_
