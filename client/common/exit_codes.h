// The exit codes every client program shares (README, "Using dsdctl"). A
// program may add its own above these (`dsdctl load`: 4, some calls
// failed).
#ifndef DSD_CLIENT_COMMON_EXIT_CODES_H_
#define DSD_CLIENT_COMMON_EXIT_CODES_H_

namespace dsd::client {

inline constexpr int kExitOk = 0;
// The input is wrong: the user's files, or the server's validation of
// them. One "error:" line per problem; nothing on stdout.
inline constexpr int kExitInput = 1;
// Usage: a flag or argument, named as typed.
inline constexpr int kExitUsage = 2;
// The server could not be used (unreachable, too slow, refused), with the
// address and what to try.
inline constexpr int kExitServer = 3;

}  // namespace dsd::client

#endif  // DSD_CLIENT_COMMON_EXIT_CODES_H_
