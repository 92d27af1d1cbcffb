// dsd.v1 -> engine: the mappers, one per message, for a request that passed
// validation (rules.h). The engine objects hold string views into the
// messages, which must outlive them; label lists live in a snapshot's
// blocks. Uses generated protobuf code and Abseil; no gRPC.
#ifndef DSD_SERVER_CONVERT_FROM_PROTO_H_
#define DSD_SERVER_CONVERT_FROM_PROTO_H_

#include <string_view>

#include "absl/functional/function_ref.h"
#include "dsd/v1/dsd.pb.h"
#include "server/convert/selector_values.h"
#include "server/engine/types.h"

namespace dsd::convert {

// Turns a view into a message into one that lives as long as the engine
// objects: the view itself when the message outlives them (a parsed
// request), a copy when the message is reused for the next object (a
// request streamed from the wire, wire.h).
using KeepString = absl::FunctionRef<std::string_view(std::string_view)>;
inline std::string_view SameView(std::string_view s) { return s; }

// A node or DaemonSet alone (the Filter path, and DaemonSets converted for
// the selector check). Their label lists are stored in `storage`, which
// must outlive them.
engine::Node NodeFromProto(const v1::Node& node, engine::Snapshot& storage);
// Its strings go through `keep`; with `values`, its requirements' values
// are read there (SelectorValues::Of) and are its views as they are: move
// them into `storage` first when the result outlives `values`.
engine::DaemonSet DaemonSetFromProto(const v1::DaemonSet& ds,
                                     engine::Snapshot& storage,
                                     KeepString keep = SameView,
                                     const SelectorValues* values = nullptr);

engine::Options OptionsFromProto(const v1::DecideOptions& options);

// The pieces the one-pass validate-and-convert (snapshot.h) assembles:
// a label list into `storage`, and a node's or pod's fields but their
// labels (which that pass takes canonical from its string cache). Label
// and taint strings are copied into `storage` (engine::Label, Taint).
engine::Labels LabelsFromProto(
    const google::protobuf::RepeatedPtrField<v1::Label>& labels,
    engine::Snapshot& storage);
template <typename NodeT>  // v1::Node or WireNode
void FillNode(const NodeT& n, engine::Node& node, engine::Snapshot& storage);
// With `values`, the pod's requirement values are read there (views of
// them as they are; see DaemonSetFromProto).
void FillPod(const v1::Pod& p, engine::Pod& pod,
             const SelectorValues* values = nullptr);

}  // namespace dsd::convert

#endif  // DSD_SERVER_CONVERT_FROM_PROTO_H_
