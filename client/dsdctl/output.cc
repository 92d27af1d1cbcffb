#include "client/dsdctl/output.h"

#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

namespace dsd::client {
namespace {

void EmitYaml(const nlohmann::json& j, YAML::Emitter& out) {
  switch (j.type()) {
    case nlohmann::json::value_t::object:
      out << YAML::BeginMap;
      for (const auto& [key, value] : j.items()) {
        out << YAML::Key << key << YAML::Value;
        EmitYaml(value, out);
      }
      out << YAML::EndMap;
      break;
    case nlohmann::json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& value : j) EmitYaml(value, out);
      out << YAML::EndSeq;
      break;
    case nlohmann::json::value_t::string:
      out << YAML::DoubleQuoted << j.get<std::string>();
      break;
    case nlohmann::json::value_t::boolean:
      out << j.get<bool>();
      break;
    case nlohmann::json::value_t::number_integer:
      out << j.get<int64_t>();
      break;
    case nlohmann::json::value_t::number_unsigned:
      out << j.get<uint64_t>();
      break;
    case nlohmann::json::value_t::number_float:
      out << j.get<double>();
      break;
    default:
      out << YAML::Null;
      break;
  }
}

// Left-aligned columns, two spaces apart, like kubectl.
std::string Columns(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (const auto& row : rows) {
    width.resize(std::max(width.size(), row.size()), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      width[i] = std::max(width[i], row[i].size());
    }
  }
  std::ostringstream out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size())
        line += std::string(width[i] - row[i].size() + 2, ' ');
    }
    out << line << '\n';
  }
  return out.str();
}

std::string Key(const std::string& ns, const std::string& name) {
  return ns + "/" + name;
}

}  // namespace

bool ParseOutputFormat(const std::string& text, OutputFormat& out) {
  if (text == "json") {
    out = OutputFormat::kJson;
  } else if (text == "yaml") {
    out = OutputFormat::kYaml;
  } else if (text == "table") {
    out = OutputFormat::kTable;
  } else {
    return false;
  }
  return true;
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

std::string ToYaml(const google::protobuf::Message& message) {
  return JsonToYaml(ToJson(message));
}

std::string JsonToYaml(const std::string& json) {
  YAML::Emitter out;
  EmitYaml(nlohmann::json::parse(json), out);
  return std::string(out.c_str()) + "\n";
}

std::string WithOptions(const std::string& json,
                        const v1::DecideOptions& options) {
  const size_t close = json.rfind('}');
  if (close == std::string::npos) return json;
  // ToJson indents by one space per level: the options object goes one
  // level down.
  std::string member = ToJson(options);
  while (!member.empty() && member.back() == '\n') member.pop_back();
  std::string indented;
  for (char c : member) {
    indented += c;
    if (c == '\n') indented += ' ';
  }
  std::string head = json.substr(0, close);
  while (!head.empty() && (head.back() == '\n' || head.back() == ' ')) {
    head.pop_back();
  }
  const bool empty_object = !head.empty() && head.back() == '{';
  return head + (empty_object ? "\n" : ",\n") + " \"options\": " + indented +
         "\n" + json.substr(close);
}

std::string DecideTable(const v1::DecideResponse& response) {
  std::vector<std::vector<std::string>> rows = {
      {"DAEMONSET", "ACTION", "NODE", "POD", "REASON"}};
  std::ostringstream summary;
  for (const v1::DaemonSetPlan& p : response.daemon_sets()) {
    const std::string ds = Key(p.namespace_(), p.name());
    for (const v1::PodCreate& c : p.create()) {
      rows.push_back({ds, "create", c.node(), "-", "-"});
    }
    for (const v1::PodDelete& d : p.delete_()) {
      rows.push_back({ds, "delete", d.node().empty() ? "-" : d.node(), d.pod(),
                      v1::DeleteReason_Name(d.reason())});
    }
    const v1::DaemonSetStatus& s = p.status();
    summary << ds << ": ";
    if (p.create().empty() && p.delete_().empty()) summary << "nothing to do; ";
    summary << "desired " << s.desired_number_scheduled() << ", current "
            << s.current_number_scheduled() << ", ready " << s.number_ready()
            << ", updated " << s.updated_number_scheduled() << ", available "
            << s.number_available() << ", unavailable "
            << s.number_unavailable() << ", misscheduled "
            << s.number_misscheduled();
    if (p.requeue_after_seconds() > 0) {
      summary << "; changes by itself in " << p.requeue_after_seconds() << "s";
    }
    summary << '\n';
    for (const std::string& note : p.notes()) {
      summary << "  note: " << note << '\n';
    }
  }
  std::string out;
  if (rows.size() > 1) {
    out = Columns(rows) + "\n";
  } else {
    out = "No pods to create or delete.\n\n";
  }
  return out + summary.str();
}

std::string ExplainTable(const v1::ExplainResponse& response) {
  std::ostringstream out;
  for (const v1::DaemonSetExplanation& ds : response.daemon_sets()) {
    out << "DaemonSet " << Key(ds.namespace_(), ds.name()) << '\n';
    std::vector<std::vector<std::string>> rows = {
        {"  NODE", "SHOULD-RUN", "MAY-KEEP-RUNNING", "WHY NOT"}};
    for (const v1::NodeExplanation& n : ds.nodes()) {
      std::string why = n.failed_predicates().empty() ? "-" : "";
      for (int i = 0; i < n.failed_predicates_size(); ++i) {
        if (i > 0) why += "; ";
        why += n.failed_predicates(i);
      }
      rows.push_back({"  " + n.node(), n.should_run() ? "yes" : "no",
                      n.should_continue_running() ? "yes" : "no", why});
    }
    if (ds.nodes().empty()) {
      out << "  (no matching node)\n";
    } else {
      out << Columns(rows);
    }
    out << '\n';
  }
  return out.str();
}

}  // namespace dsd::client
