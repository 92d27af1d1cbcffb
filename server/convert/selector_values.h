// The values of a DaemonSet's selector requirements, kept apart from the
// parsed message. A required node affinity may list 100,000 values: parsed
// by protobuf, each is a 32-byte string in a heap block of its own behind
// an 8-byte pointer, about 5 MB for 0.8 MB on the wire. The wire reader
// (wire.h) takes them out of the DaemonSet's bytes before protobuf parses
// the rest, into one buffer and 8 bytes per value; the rules (rules.h) and
// the converter (from_proto.h) read them here. Uses generated protobuf code
// and Abseil; no gRPC.
#ifndef DSD_SERVER_CONVERT_SELECTOR_VALUES_H_
#define DSD_SERVER_CONVERT_SELECTOR_VALUES_H_

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "dsd/v1/dsd.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "server/engine/types.h"

namespace dsd::convert {

// One DaemonSet's values, or one Pod's, as the wire reader takes them;
// one per object read.
class SelectorValues {
 public:
  // Where a value's bytes are in the buffer.
  using Ref = engine::ValueRef;

  // Takes every SelectorRequirement's `values` out of `bytes`, a
  // DaemonSet's encoding, which is rewritten without them (for protobuf to
  // parse; untouched when there are none); the values' bytes are copied
  // here. False where protobuf's parser would reject the bytes on the way
  // to a value, or a value (one that is not UTF-8). What else protobuf
  // rejects it still rejects: the rest is left to it.
  bool Take(std::string& bytes);
  // The same for a Pod's encoding (its required node affinity).
  bool TakeFromPod(std::string& bytes);

  // Ties the requirements of `ds`, parsed from the bytes Take rewrote, to
  // their values. Protobuf merges repeated occurrences of a singular
  // message and appends repeated ones, so the requirements of each list
  // come in the order their bytes came. False if the message's lists
  // disagree with the bytes (which would be a bug: no value is then read).
  bool Bind(const v1::DaemonSet& ds);
  bool Bind(const v1::Pod& pod);

  // The values of `r`, a requirement of the bound message, as the engine
  // keeps them (references into the buffer, no copy per value).
  engine::RequirementValues Of(const v1::SelectorRequirement& r) const;

  // Moves the values' bytes and references into `storage`: the values Of
  // returns then live as long as it does.
  void MoveInto(engine::Snapshot& storage);

  // Puts the values back into `ds`, the bound message (for readers that
  // hand out whole messages).
  void Restore(v1::DaemonSet& ds) const;
  void Restore(v1::Pod& pod) const;

 private:
  // The lists of requirements a DaemonSet has, by path.
  enum ListId : uint8_t {
    kSelector,         // selector.match_expressions
    kTermExpressions,  // template.required_node_affinity...match_expressions
    kTermFields,       // template.required_node_affinity...match_fields
    kRollout,          // update_strategy.rollout_node_selector...
    kLists,
  };
  enum class Kind : uint8_t;
  struct Child;
  static Child ChildOf(Kind parent, int number, ListId list);
  struct Next;
  static Next NextField(google::protobuf::io::CodedInputStream& in, Kind kind,
                        ListId list, bool& bad);
  template <typename F>
  static void ForEachRequirement(const v1::DaemonSet& ds, F&& f);
  template <typename F>
  static void ForEachRequirement(const v1::RequiredNodeAffinity& affinity,
                                 F&& f);
  bool Take(std::string& bytes, Kind root);
  template <typename Message>
  bool BindTo(const Message& message);
  template <typename Message>
  void RestoreTo(Message& message) const;

  // Take's passes: Scan checks the bytes, collects the values and sizes
  // each message on the way without them; Write writes those messages.
  bool Scan(google::protobuf::io::CodedInputStream& in, std::string_view bytes,
            Kind kind, ListId list, uint32_t& size);
  void Write(google::protobuf::io::CodedInputStream& in, std::string_view bytes,
             Kind kind, ListId list, std::string& out, size_t& next_size);

  size_t value_count_ = 0;  // Scan's count, for Write to reserve
  size_t value_bytes_ = 0;
  std::string buffer_;          // the values' bytes, one after another
  const char* base_ = nullptr;  // buffer_'s bytes, or where they moved
  std::vector<Ref> refs_;
  const Ref* refs_data_ = nullptr;  // refs_'s, or where they moved
  // Per list, each requirement's values in refs_ (first, end), in the
  // order the requirements came.
  std::array<std::vector<std::pair<uint32_t, uint32_t>>, kLists> ranges_;
  // The stripped size of each message on a requirement's way, in the
  // order Scan met them.
  std::vector<uint32_t> sizes_;
  absl::flat_hash_map<const v1::SelectorRequirement*,
                      std::pair<uint32_t, uint32_t>>
      bound_;

  // The bound range of `r`: (first, end) in the references.
  std::pair<uint32_t, uint32_t> RangeOf(const v1::SelectorRequirement& r) const;
};

}  // namespace dsd::convert

#endif  // DSD_SERVER_CONVERT_SELECTOR_VALUES_H_
