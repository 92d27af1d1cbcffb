// Byte spans of values inside a JSON text that is already known to be
// valid (the filter validated it), so that dsd-extender can echo the nodes it
// was sent byte for byte and parse only the parts it reads. No allocation
// beyond the returned vectors; never throws.
#ifndef DSD_CLIENT_EXTENDER_JSON_SPANS_H_
#define DSD_CLIENT_EXTENDER_JSON_SPANS_H_

#include <string>
#include <string_view>
#include <vector>

namespace dsd::extender {

// One member of a JSON object: its key as written (escapes not decoded)
// and its value's text (whitespace trimmed).
struct JsonMember {
  std::string_view key;
  std::string_view value;
};

// The members of the object `object` in input order (duplicates kept);
// empty when `object` is not an object. Precondition: `object` is one
// valid JSON value (leading and trailing whitespace allowed).
std::vector<JsonMember> ObjectMembers(std::string_view object);

// The elements of the array `array`, in order; empty when it is not an
// array. Same precondition.
std::vector<std::string_view> ArrayElements(std::string_view array);

// The last member whose key equals `key` ignoring ASCII case, as Go's
// encoding/json matches struct fields (a later duplicate overwrites an
// earlier one); an empty view when there is none.
std::string_view FindMemberIgnoringCase(const std::vector<JsonMember>& members,
                                        std::string_view key);

// `text` without surrounding JSON whitespace.
std::string_view TrimJson(std::string_view text);

}  // namespace dsd::extender

#endif  // DSD_CLIENT_EXTENDER_JSON_SPANS_H_
