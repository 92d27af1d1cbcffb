// Kubernetes' syntax rules for names, label keys and values, and Go's
// integer parsing, as the API server and the label library apply them.
// Pure functions; the engine uses them for match-time validity, convert for
// request validation. No dependencies beyond the standard library.
#ifndef DSD_SERVER_ENGINE_K8S_NAMES_H_
#define DSD_SERVER_ENGINE_K8S_NAMES_H_

#include <cstdint>
#include <optional>
#include <string_view>

namespace dsd::engine {

// DNS-1123 subdomain: <= 253 chars, lowercase alphanumerics, '-' and '.',
// starting and ending alphanumeric (node, pod and DaemonSet names).
bool IsDns1123Subdomain(std::string_view s);
// DNS-1123 label: <= 63 chars, lowercase alphanumerics and '-' (namespaces).
bool IsDns1123Label(std::string_view s);
// Label key (qualified name): [prefix/]name, name 1-63 chars of
// [A-Za-z0-9][-A-Za-z0-9_.]* ending alphanumeric, prefix a DNS-1123 subdomain.
bool IsLabelKey(std::string_view s);
// Label value: empty, or <= 63 chars with the name alphabet above.
bool IsLabelValue(std::string_view s);

// Go's strconv.ParseInt(s, 10, 64): optional sign, decimal digits (leading
// zeros allowed), no spaces, within int64. nullopt when it does not parse.
std::optional<int64_t> ParseInt64(std::string_view s);
// Canonical decimal integer ("0" or -?[1-9][0-9]*, int64 range), as the
// Lt/Gt toleration operators require.
std::optional<int64_t> ParseCanonicalInt64(std::string_view s);

}  // namespace dsd::engine

#endif  // DSD_SERVER_ENGINE_K8S_NAMES_H_
