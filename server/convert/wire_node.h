// WireNode: a dsd.v1.Node read from its bytes without protobuf, its
// strings views into them. Issue 11, shapes 7 and 8: a node of 1,000
// labels or taints of a few bytes each spent a fifth of the handler in
// protobuf's parse of the small messages (one parse call, one string
// assignment and one UTF-8 check per field), which this reader replaces
// by a walk over the bytes. Its accessors are spelled as the generated
// message's, so that validation and conversion take either.
#ifndef DSD_SERVER_CONVERT_WIRE_NODE_H_
#define DSD_SERVER_CONVERT_WIRE_NODE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dsd/v1/dsd.pb.h"

namespace dsd::convert {

class WireNode {
 public:
  struct Label {
    std::string_view key_, value_;
    std::string_view key() const { return key_; }
    std::string_view value() const { return value_; }
  };
  struct Timestamp {
    int64_t seconds_ = 0;
    int32_t nanos_ = 0;
    int64_t seconds() const { return seconds_; }
    int32_t nanos() const { return nanos_; }
  };
  struct Taint {
    std::string_view key_, value_;
    int effect_ = 0;  // as protobuf keeps an open enum: any int32
    bool has_time_added_ = false;
    Timestamp time_added_;
    std::string_view key() const { return key_; }
    std::string_view value() const { return value_; }
    v1::TaintEffect effect() const {
      return static_cast<v1::TaintEffect>(effect_);
    }
    bool has_time_added() const { return has_time_added_; }
    const Timestamp& time_added() const { return time_added_; }
  };

  // Reads `bytes` as protobuf parses a dsd.v1.Node: the last name wins,
  // labels and taints in order, a taint's fields the last of each (its
  // time_added merged), unknown fields skipped. False for bytes protobuf
  // rejects (a string that is not UTF-8, or corrupt bytes). The views
  // point into `bytes`, which must outlive their use; the next Read
  // replaces them (the lists keep their memory).
  bool Read(std::string_view bytes);
  bool Read(std::string&& bytes) = delete;  // the views would dangle

  std::string_view name() const { return name_; }
  const std::vector<Label>& labels() const { return labels_; }
  int taints_size() const { return static_cast<int>(taints_.size()); }
  const Taint& taints(int i) const { return taints_[static_cast<size_t>(i)]; }
  const std::vector<Taint>& taints() const { return taints_; }

  // The same node as a message, as protobuf would have parsed it.
  void CopyTo(v1::Node& node) const;

 private:
  std::string_view name_;
  std::vector<Label> labels_;
  std::vector<Taint> taints_;
};

}  // namespace dsd::convert

#endif  // DSD_SERVER_CONVERT_WIRE_NODE_H_
