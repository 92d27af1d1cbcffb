#include "client/k8s/snapshot_loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "client/k8s/internal/document_parser.h"
#include "client/k8s/internal/object_converter.h"

namespace dsd::client {

using Json = nlohmann::json;

// One added text, parsed.
struct SnapshotLoader::Document {
  std::string source;
  internal::ParsedText parsed;
};

namespace {

constexpr char kStdinSource[] = "<stdin>";

// One object found in the input: a document, or an item of a List in it.
struct FoundObject {
  const std::string* source;
  std::string location;  // "items[3]", "document 2", "document 2, items[0]"
  const Json* value;
  std::string kind;         // its own, or inherited from a typed list
  std::string api_version;  // likewise
};

std::string JoinLocation(const std::string& outer, const std::string& inner) {
  return outer.empty() ? inner : outer + ", " + inner;
}

// The string member `key` of `object`, or "" (identification only: the
// converters report wrong types).
std::string StringMember(const Json& object, std::string_view key) {
  if (!object.is_object()) return "";
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

constexpr std::string_view kList = "List";

bool EndsWithList(const std::string& kind) {
  return kind.size() >= kList.size() &&
         std::string_view(kind).substr(kind.size() - kList.size()) == kList;
}

// Collects the objects of one document, flattening `List`s (kubectl's
// generic one, whose items carry their own kind, and typed ones such as
// NodeList from the API, whose items do not).
class Flattener {
 public:
  Flattener(const std::string& source, const internal::NumberTexts& numbers,
            std::vector<FoundObject>& objects,
            std::vector<InputProblem>& problems)
      : source_(source),
        numbers_(numbers),
        objects_(objects),
        problems_(problems) {}

  // A whole document: an object, or (JSON) a top-level array of objects.
  void AddDocument(const Json& value, const std::string& location) {
    if (!value.is_array()) {
      Add(value, location, "", "", 0);
      return;
    }
    for (size_t i = 0; i < value.size(); ++i) {
      Add(value[i], JoinLocation(location, "[" + std::to_string(i) + "]"), "",
          "", 0);
    }
  }

 private:
  // Lists nest in practice at most twice (a List of Lists); the limit keeps
  // hostile input from exhausting the stack.
  static constexpr int kMaxListDepth = 16;

  void Add(const Json& value, const std::string& location,
           const std::string& inherited_kind,
           const std::string& inherited_api_version, int depth) {
    if (value.is_null()) return;  // an empty YAML document or list item
    if (!value.is_object()) {
      problems_.push_back({source_, location, "",
                           "must be a Kubernetes object (a map), got " +
                               internal::Got(value, &numbers_)});
      return;
    }
    std::string kind = inherited_kind;
    if (const auto it = value.find("kind");
        it != value.end() && !it->is_null()) {
      if (!it->is_string()) {
        problems_.push_back(
            {source_, location, "kind",
             "must be a string, got " + internal::Got(*it, &numbers_)});
        return;
      }
      kind = it->get<std::string>();
    }
    std::string api_version = StringMember(value, "apiVersion");
    if (api_version.empty()) api_version = inherited_api_version;
    if (EndsWithList(kind) && value.contains("items")) {
      if (depth >= kMaxListDepth) {
        problems_.push_back({source_, location, "items",
                             "lists nested more than " +
                                 std::to_string(kMaxListDepth) + " deep"});
        return;
      }
      const Json& items = value["items"];
      if (items.is_null()) return;
      if (!items.is_array()) {
        problems_.push_back(
            {source_, location, "items",
             "must be a list, got " + internal::Got(items, &numbers_)});
        return;
      }
      // kubectl's "List" items name their kind; a typed list's do not.
      const std::string item_kind =
          kind == kList ? "" : kind.substr(0, kind.size() - kList.size());
      const std::string item_api = kind == kList ? "" : api_version;
      for (size_t i = 0; i < items.size(); ++i) {
        Add(items[i],
            JoinLocation(location, "items[" + std::to_string(i) + "]"),
            item_kind, item_api, depth + 1);
      }
      return;
    }
    objects_.push_back({&source_, location, &value, kind, api_version});
  }

  const std::string& source_;
  const internal::NumberTexts& numbers_;
  std::vector<FoundObject>& objects_;
  std::vector<InputProblem>& problems_;
};

// "DaemonSet kube-system/ssd-monitor", "Node k8s-node1"; an object without a
// name is told by where it is: "Pod (unnamed, items[3])".
std::string ObjectLabel(const FoundObject& found, bool namespaced) {
  const Json* meta = nullptr;
  if (const auto it = found.value->find("metadata");
      it != found.value->end() && it->is_object()) {
    meta = &*it;
  }
  const std::string name = meta ? StringMember(*meta, "name") : "";
  std::string ns = meta ? StringMember(*meta, "namespace") : "";
  if (namespaced && ns.empty()) ns = "default";
  std::string label = found.kind + " ";
  if (!ns.empty()) label += ns + "/";
  if (!name.empty()) return label + name;
  if (found.location.empty()) return found.kind + " (unnamed)";
  return found.kind + " (unnamed, " + found.location + ")";
}

const std::string* FindLabel(
    const google::protobuf::RepeatedPtrField<v1::Label>& labels,
    std::string_view key) {
  for (const v1::Label& l : labels) {
    if (l.key() == key) return &l.value();
  }
  return nullptr;
}

// metav1.LabelSelector semantics. An empty selector matches nothing here:
// Kubernetes refuses it for DaemonSets, and adopting every revision would
// be wrong.
bool SelectorMatches(const v1::DaemonSet& ds,
                     const std::map<std::string, std::string>& labels) {
  const v1::LabelSelector& selector = ds.selector();
  if (!ds.has_selector() || (selector.match_labels().empty() &&
                             selector.match_expressions().empty())) {
    return false;
  }
  for (const v1::Label& l : selector.match_labels()) {
    const auto it = labels.find(l.key());
    if (it == labels.end() || it->second != l.value()) return false;
  }
  for (const v1::SelectorRequirement& r : selector.match_expressions()) {
    const auto it = labels.find(r.key());
    const bool present = it != labels.end();
    bool in_values = false;
    for (const std::string& v : r.values()) {
      in_values = in_values || (present && it->second == v);
    }
    switch (r.operator_()) {
      case v1::SELECTOR_OPERATOR_IN:
        if (!in_values) return false;
        break;
      case v1::SELECTOR_OPERATOR_NOT_IN:
        if (in_values) return false;
        break;
      case v1::SELECTOR_OPERATOR_EXISTS:
        if (!present) return false;
        break;
      case v1::SELECTOR_OPERATOR_DOES_NOT_EXIST:
        if (present) return false;
        break;
      default:
        return false;  // not a label-selector operator: matches nothing
    }
  }
  return true;
}

// The `controller-revision-hash` of the DaemonSet's newest ControllerRevision
// (plan-contract "Revisions"), or nullopt when the input holds none of its
// revisions. Its revisions are those whose controller reference has its
// uid, plus orphans (no controller reference) in its namespace whose labels
// its selector matches: the controller adopts those too (constructHistory
// claims revisions like pods), and revisions written in a manifest have no
// ownerReferences at all.
std::optional<std::string> HashFromRevisions(
    const v1::DaemonSet& ds,
    const std::vector<internal::ControllerRevision>& revisions) {
  const internal::ControllerRevision* newest = nullptr;
  for (const internal::ControllerRevision& rev : revisions) {
    const bool owned = rev.has_controller
                           ? rev.controller_uid == ds.uid()
                           : rev.namespace_name == ds.namespace_() &&
                                 SelectorMatches(ds, rev.labels);
    if (!owned) continue;
    // Highest revision; a tie (not produced by the controller) goes to the
    // smaller name, so that input order does not matter.
    if (newest == nullptr || rev.revision > newest->revision ||
        (rev.revision == newest->revision && rev.name < newest->name)) {
      newest = &rev;
    }
  }
  if (newest == nullptr) return std::nullopt;
  // Semantics 7.2: a revision without the hash label goes by its name.
  const auto it = newest->labels.find(internal::kControllerRevisionHashLabel);
  return it == newest->labels.end() ? newest->name : it->second;
}

// Without revisions: the hash on the DaemonSet's own pods (controller uid ==
// its uid) at its current template generation, if those that carry one
// agree; otherwise "" (unknown).
std::string HashFromPods(
    const v1::DaemonSet& ds,
    const google::protobuf::RepeatedPtrField<v1::Pod>& pods) {
  if (!ds.has_template_generation()) return "";
  const std::string generation = std::to_string(ds.template_generation());
  std::set<std::string> hashes;
  for (const v1::Pod& pod : pods) {
    if (pod.controller_uid() != ds.uid()) continue;
    const std::string* pod_generation =
        FindLabel(pod.labels(), internal::kPodTemplateGenerationLabel);
    if (pod_generation == nullptr || *pod_generation != generation) continue;
    const std::string* hash =
        FindLabel(pod.labels(), internal::kControllerRevisionHashLabel);
    if (hash != nullptr && !hash->empty()) hashes.insert(*hash);
  }
  return hashes.size() == 1 ? *hashes.begin() : "";
}

bool IsIdentifier(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '_';
    if (!word) return false;
  }
  return true;
}

// The length of the valid UTF-8 prefix of `text` (RFC 3629: no overlong
// forms, no surrogates, at most U+10FFFF); text.size() when all is valid.
size_t ValidUtf8Prefix(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = [&](size_t k) {
      return static_cast<unsigned char>(text[i + k]);
    };
    const unsigned char c = byte(0);
    size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (c < 0x80) {
      length = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      length = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      length = 3;
      if (c == 0xE0) low = 0xA0;
      if (c == 0xED) high = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      length = 4;
      if (c == 0xF0) low = 0x90;
      if (c == 0xF4) high = 0x8F;
    } else {
      return i;
    }
    if (i + length > text.size()) return i;
    for (size_t k = 1; k < length; ++k) {
      const unsigned char lo = k == 1 ? low : 0x80;
      const unsigned char hi = k == 1 ? high : 0xBF;
      if (byte(k) < lo || byte(k) > hi) return i;
    }
    i += length;
  }
  return text.size();
}

// Every string and map key in `value` must be UTF-8, as Kubernetes (and the
// JSON parser, and protobuf's string fields) require; YAML text is not
// checked by its parser. Reports each one with its field path.
void CheckUtf8(const Json& value, const std::string& path,
               const internal::ObjectContext& ctx) {
  const auto report = [&](const std::string& where, std::string_view text,
                          std::string_view what) {
    const size_t at = ValidUtf8Prefix(text);
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02X",
                  static_cast<unsigned>(static_cast<unsigned char>(text[at])));
    ctx.Add(where, std::string(what) + " is not UTF-8 (byte " + byte +
                       " at offset " + std::to_string(at) + ")");
  };
  if (value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (ValidUtf8Prefix(text) != text.size()) report(path, text, "the value");
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) {
      CheckUtf8(value[i], path + "[" + std::to_string(i) + "]", ctx);
    }
  } else if (value.is_object()) {
    // Kubernetes writes the keys of string maps in brackets, and fields
    // with a dot (metadata.labels["disk"]), as the converters do.
    const std::string_view last =
        std::string_view(path).substr(path.find_last_of(".]") + 1);
    const bool string_map = last == "labels" || last == "annotations" ||
                            last == "nodeSelector" || last == "matchLabels";
    for (const auto& [key, member] : value.items()) {
      const std::string child = !string_map && IsIdentifier(key)
                                    ? (path.empty() ? key : path + "." + key)
                                    : path + "[\"" + key + "\"]";
      if (ValidUtf8Prefix(key) != key.size()) {
        report(child, key, "the key");
        continue;
      }
      CheckUtf8(member, child, ctx);
    }
  }
}

void Convert(const FoundObject& found, const internal::NumberTexts& numbers,
             LoadedSnapshot& out,
             std::vector<internal::ControllerRevision>& revisions) {
  const std::string& source = *found.source;
  if (found.kind.empty()) {
    out.problems.push_back({source, found.location, "kind", "is required"});
    return;
  }
  struct Known {
    std::string_view kind;
    std::string_view api_version;
    bool namespaced;
  };
  static constexpr Known kKnown[] = {{"Node", "v1", false},
                                     {"DaemonSet", "apps/v1", true},
                                     {"Pod", "v1", true},
                                     {"ControllerRevision", "apps/v1", true}};
  const Known* known = nullptr;
  for (const Known& k : kKnown) {
    if (k.kind == found.kind) known = &k;
  }
  {
    const size_t before = out.problems.size();
    CheckUtf8(
        *found.value, "",
        {source, ObjectLabel(found, known != nullptr && known->namespaced),
         &out.problems, &numbers});
    if (out.problems.size() != before) return;
  }
  if (known == nullptr) {
    out.warnings.push_back(
        "warning: " + source + ": skipping " +
        ObjectLabel(found, /*namespaced=*/false) +
        ": dsdctl reads Node, DaemonSet, Pod and ControllerRevision");
    return;
  }
  const std::string label = ObjectLabel(found, known->namespaced);
  // An object without apiVersion is taken as the version dsdctl reads;
  // another version (extensions/v1beta1 DaemonSets) has other defaults.
  if (!found.api_version.empty() && found.api_version != known->api_version) {
    out.warnings.push_back("warning: " + source + ": skipping " + label +
                           ": dsdctl reads " + std::string(known->api_version) +
                           " " + found.kind + ", not " + found.api_version);
    return;
  }
  const internal::ObjectContext ctx{source, label, &out.problems, &numbers,
                                    &out.warnings};
  const ObjectOrigin origin{source, label};
  if (found.kind == "Node") {
    *out.snapshot.add_nodes() = internal::ConvertNode(*found.value, ctx);
    out.nodes.push_back(origin);
  } else if (found.kind == "DaemonSet") {
    *out.snapshot.add_daemon_sets() =
        internal::ConvertDaemonSet(*found.value, ctx);
    out.daemon_sets.push_back(origin);
  } else if (found.kind == "Pod") {
    *out.snapshot.add_pods() = internal::ConvertPod(*found.value, ctx);
    out.pods.push_back(origin);
  } else {
    revisions.push_back(internal::ConvertControllerRevision(*found.value, ctx));
  }
}

// Moves `from`'s objects, origins, warnings and problems to the end of
// `to`'s.
void Append(LoadedSnapshot&& from, LoadedSnapshot& to) {
  const auto move = [](auto& from_list, auto& to_list) {
    if (to_list.empty()) {
      std::swap(to_list, from_list);
      return;
    }
    for (auto& item : from_list) to_list.push_back(std::move(item));
  };
  const auto move_messages = [](auto& from_list, auto& to_list) {
    if (to_list.empty()) {
      to_list.Swap(&from_list);
      return;
    }
    for (auto& item : from_list) *to_list.Add() = std::move(item);
  };
  v1::Snapshot& in = from.snapshot;
  v1::Snapshot& out = to.snapshot;
  move_messages(*in.mutable_nodes(), *out.mutable_nodes());
  move_messages(*in.mutable_daemon_sets(), *out.mutable_daemon_sets());
  move_messages(*in.mutable_pods(), *out.mutable_pods());
  move(from.nodes, to.nodes);
  move(from.daemon_sets, to.daemon_sets);
  move(from.pods, to.pods);
  move(from.warnings, to.warnings);
  move(from.problems, to.problems);
}

}  // namespace

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const size_t valid = ValidUtf8Prefix(text.substr(i));
    for (size_t k = i; k < i + valid; ++k) {
      const auto c = static_cast<unsigned char>(text[k]);
      if (c < 0x20 || c == 0x7F) {
        char escaped[8];
        std::snprintf(escaped, sizeof escaped, "\\x%02X", c);
        out += escaped;
      } else {
        out += static_cast<char>(c);
      }
    }
    i += valid;
    if (i < text.size()) {  // a byte that is not UTF-8
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02X",
                    static_cast<unsigned>(static_cast<unsigned char>(text[i])));
      out += escaped;
      ++i;
    }
  }
  return out;
}

std::string InputProblem::ToString() const {
  std::string out;
  for (const std::string* part : {&source, &object, &field, &message}) {
    if (part->empty()) continue;
    if (!out.empty()) out += ": ";
    out += Printable(*part);
  }
  return out;
}

bool SnapshotLoader::Reserve(size_t bytes, const std::string& source) {
  const auto limit = static_cast<uint64_t>(max_input_bytes_);
  if (static_cast<uint64_t>(total_bytes_) + bytes <= limit) return true;
  read_problems_.push_back(
      {source, "", "",
       "too large to load (the input passes " +
           internal::HumanBytes(static_cast<size_t>(limit)) +
           " in total; --max_input_bytes raises the limit)"});
  return false;
}

void SnapshotLoader::AddRead(std::string text, const std::string& source) {
  total_bytes_ += static_cast<int64_t>(text.size());
  sources_.push_back(source);
  texts_.push_back(std::move(text));
}

void SnapshotLoader::AddFile(const std::string& path) {
  const bool is_stdin = path == "-";
  const std::string source = is_stdin ? kStdinSource : path;
  int fd = STDIN_FILENO;
  if (!is_stdin) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      read_problems_.push_back({path, "", "", "cannot read: is a directory"});
      return;
    }
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      read_problems_.push_back(
          {path, "", "", std::string("cannot read: ") + std::strerror(errno)});
      return;
    }
  }
  // A regular file's size is known: refuse it before reading.
  struct stat st {};
  const bool regular = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  const size_t problems_before = read_problems_.size();
  bool ok = !regular || Reserve(static_cast<size_t>(st.st_size), source);
  std::string text;
  try {
    if (regular && ok) text.reserve(static_cast<size_t>(st.st_size));
    // Read in chunks, stopping at the limit: stdin, pipes and /dev/zero
    // have no size.
    constexpr size_t kChunk = size_t{1} << 20;
    while (ok) {
      const size_t used = text.size();
      const size_t want = std::min<uint64_t>(
          kChunk, static_cast<uint64_t>(max_input_bytes_) -
                      static_cast<uint64_t>(total_bytes_) - used + 1);
      text.resize(used + want);
      const ssize_t n = ::read(fd, text.data() + used, want);
      if (n < 0 && errno == EINTR) {
        text.resize(used);
        continue;
      }
      if (n < 0) {
        read_problems_.push_back(
            {source, "", "",
             std::string("cannot read: ") + std::strerror(errno)});
        ok = false;
        break;
      }
      text.resize(used + static_cast<size_t>(n));
      if (n == 0) break;
      if (!Reserve(text.size(), source)) ok = false;
    }
  } catch (const std::bad_alloc&) {
    ok = false;
  } catch (const std::length_error&) {
    ok = false;
  }
  if (ok) {
    AddRead(std::move(text), source);
  } else if (read_problems_.size() == problems_before) {
    const size_t read = text.size();
    std::string().swap(text);  // the memory the message needs
    read_problems_.push_back(
        {source, "", "",
         "too large to load (out of memory after reading " +
             internal::HumanBytes(read) + ")"});
  }
  if (!is_stdin) ::close(fd);
}

void SnapshotLoader::AddConverted(LoadedSnapshot converted) {
  Append(std::move(converted), converted_);
}

void SnapshotLoader::AddText(std::string_view text, const std::string& source) {
  if (!Reserve(text.size(), source)) return;
  AddRead(std::string(text), source);
}

LoadedSnapshot SnapshotLoader::Finish() {
  LoadedSnapshot out;
  // The text being worked on, to name it if memory runs out.
  const std::string* current = nullptr;
  try {
    out.problems = read_problems_;
    std::vector<Document> documents;
    documents.reserve(texts_.size());
    for (size_t i = 0; i < texts_.size(); ++i) {
      current = &sources_[i];
      Document doc{sources_[i], internal::ParseDocuments(texts_[i])};
      if (!doc.parsed.error.empty()) {
        out.problems.push_back({doc.source, "", "", doc.parsed.error});
      }
      documents.push_back(std::move(doc));
    }
    // The documents stay where they are from here on.
    internal::NumberTexts numbers;
    for (const Document& doc : documents) {
      internal::AddNumberTexts(doc.parsed, numbers);
    }
    std::vector<FoundObject> objects;
    for (size_t d = 0; d < documents.size(); ++d) {
      const Document& doc = documents[d];
      // Objects name sources_ (which outlives this call), not doc.source.
      current = &sources_[d];
      Flattener flattener(sources_[d], numbers, objects, out.problems);
      for (size_t i = 0; i < doc.parsed.documents.size(); ++i) {
        const std::string location = doc.parsed.multi_document
                                         ? "document " + std::to_string(i + 1)
                                         : "";
        flattener.AddDocument(doc.parsed.documents[i], location);
      }
    }
    const v1::Snapshot& converted = converted_.snapshot;
    const bool none_converted =
        converted.nodes().empty() && converted.daemon_sets().empty() &&
        converted.pods().empty() && converted_.problems.empty();
    // As kubectl's "error: no objects passed to apply": an empty file is
    // a mistake (the wrong file, a failed kubectl get), not an empty plan.
    if (objects.empty() && none_converted && out.problems.empty()) {
      std::string names;
      for (const std::string& source : sources_) {
        names += (names.empty() ? "" : ", ") + source;
      }
      out.problems.push_back({"", "", "", "no objects in " + names});
    }
    std::vector<internal::ControllerRevision> revisions;
    for (const FoundObject& found : objects) {
      current = found.source;
      Convert(found, numbers, out, revisions);
    }
    current = nullptr;
    Append(std::exchange(converted_, LoadedSnapshot()), out);
    for (v1::DaemonSet& ds : *out.snapshot.mutable_daemon_sets()) {
      std::optional<std::string> hash = HashFromRevisions(ds, revisions);
      ds.set_current_revision_hash(
          hash ? *std::move(hash) : HashFromPods(ds, out.snapshot.pods()));
    }
    for (std::string& warning : out.warnings) warning = Printable(warning);
  } catch (const std::bad_alloc&) {
    out = LoadedSnapshot();  // frees what was built
    out.problems = read_problems_;
    out.problems.push_back({current != nullptr ? *current : "", "", "",
                            "too large to load (out of memory)"});
  } catch (const std::length_error&) {
    out = LoadedSnapshot();
    out.problems = read_problems_;
    out.problems.push_back({current != nullptr ? *current : "", "", "",
                            "too large to load (out of memory)"});
  } catch (const std::exception& e) {
    // Converters do not throw; this keeps the no-throw contract if a
    // library does.
    out.problems.push_back(
        {"", "", "", std::string("internal error: ") + e.what()});
  }
  return out;
}

}  // namespace dsd::client
