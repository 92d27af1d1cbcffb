// The properties the fuzz targets check, as plain functions over one input
// so that the libFuzzer programs (fuzz/*_fuzzer.cc, clang) and the corpus
// replay test (fuzz/corpus_replay_test.cc, every build) run the same code.
// A violated property prints what differed to stderr and aborts: libFuzzer
// then saves the input, and the replay test dies naming the file.
#ifndef DSD_FUZZ_CHECKS_H_
#define DSD_FUZZ_CHECKS_H_

#include <cstddef>
#include <cstdint>

namespace dsd::fuzz {

// Silences protobuf's log lines (a parse of invalid UTF-8 logs one each
// time); call once before the checks.
void QuietProtobufLogs();

// A request through the service. The first byte picks the method
// (% 4: Decide, Explain, Validate, Filter) and the second how the bytes
// are split into stream chunks (the reader must not assume contiguous
// bytes); the rest is the request. For Decide, Explain and Validate:
//  - the wire reader (server/convert/wire.h) accepts the bytes exactly when
//    protobuf's parser does (unless it stopped first at a per-object cap,
//    RESOURCE_EXHAUSTED), and reads the same request, unknown fields of the
//    snapshot aside;
//  - bytes protobuf rejects get INVALID_ARGUMENT (or RESOURCE_EXHAUSTED);
//  - for accepted bytes the service's answer (status, plan, explanations,
//    violations) equals its answer to the protobuf-parsed request;
//  - Validate never answers INVALID_ARGUMENT to accepted bytes, and when it
//    lists violations for a Decide/Explain request's snapshot and options,
//    that request gets INVALID_ARGUMENT.
// For Filter (parsed whole by the transport): every node is either
// feasible or failed, in the request's order.
void CheckServiceRequest(const uint8_t* data, size_t size);

// Kubernetes JSON/YAML text through client/k8s's SnapshotLoader: never
// throws, the origins are parallel to the snapshot's objects, every problem
// and warning prints on one line without control bytes, Finish() gives the
// same result twice, and TranslateFieldPath maps paths of the snapshot.
void CheckK8sLoad(const uint8_t* data, size_t size);

// A Kubernetes List page as the API server would send it (the first byte
// picks the resource: % 4 Pods, Nodes, DaemonSets, ControllerRevisions)
// through client/kube's page decoder, against the nlohmann path it
// replaces: the same status (message included), and for a page it accepts
// the same items (key and slim text, byte for byte), resourceVersion and
// continue token, whether simdjson took the page or handed it over; the
// body is given back as it came.
void CheckKubeListPage(const uint8_t* data, size_t size);

// Watch stream lines as the API server sends them (the first byte picks
// the resource, as for List pages; the rest is split at newlines) through
// client/kube's event decoder and the reflector's store path: never
// throws; an accepted event has one of the four types and an object, with
// the resource's kind and apiVersion unless a BOOKMARK; a refused line is
// DATA_LOSS naming its line, or the API error an ERROR event carries,
// naming the request; and the slim text the store keeps is JSON that gives
// back the same key, so that readers of the store find what was put.
void CheckKubeWatchLines(const uint8_t* data, size_t size);

// A kube-scheduler extender request body through dsd-extender's filter
// (client/extender/filter.h), its dsd-server unreachable: never crashes;
// answers 200 or 400 with a JSON object body; a 400 carries Error; a 200
// carries the ExtenderFilterResult keys and passes no more nodes than were
// sent.
void CheckExtenderFilter(const uint8_t* data, size_t size);

}  // namespace dsd::fuzz

#endif  // DSD_FUZZ_CHECKS_H_
