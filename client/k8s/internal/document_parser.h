// Text -> JSON documents: JSON when the text parses as JSON, else
// (multi-document) YAML, converted to nlohmann::json with the scalar typing
// kubectl uses (sigs.k8s.io/yaml on go-yaml v2), so the object converter
// sees one shape for both. Internal to dsd::client_k8s; never throws.
#ifndef DSD_CLIENT_K8S_INTERNAL_DOCUMENT_PARSER_H_
#define DSD_CLIENT_K8S_INTERNAL_DOCUMENT_PARSER_H_

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace dsd::client::internal {

// A number as the input wrote it, where that differs from how
// nlohmann::json prints its value (`1e32`, not `1e+32`; an integer too
// large for 64 bits, not its rounded double; YAML's `0x10`), so that
// problem messages quote the input.
struct NumberText {
  size_t document = 0;                 // index into ParsedText::documents
  nlohmann::json::json_pointer where;  // within that document
  std::string text;
};

// The same, by the address of the value once the documents stay put.
using NumberTexts = std::unordered_map<const nlohmann::json*, std::string>;

// The documents of one text, in order; an empty YAML document (only
// comments, or nothing between two `---`) is null. On an error `documents`
// is empty and `error` says where and why: "invalid YAML at line 3, column
// 7: illegal map value", or starts with "too large to load (" when memory
// ran out or YAML aliases expand past twice the text's size.
struct ParsedText {
  std::vector<nlohmann::json> documents;
  bool multi_document = false;  // YAML with more than one document
  std::string error;            // empty when the text parsed
  std::vector<NumberText> number_texts;
};

// Text that parses as JSON is read as JSON (its error positions are the
// better ones); anything else as YAML, flow style (`{kind: Node}`)
// included. When neither parses, the error of the parser that read
// further is returned (JSON's on a tie).
ParsedText ParseDocuments(std::string_view text);

// "2 MiB", "1.5 GiB", "123 bytes".
std::string HumanBytes(size_t bytes);

// Resolves `parsed.number_texts` against `parsed.documents` where they now
// are; the addresses stay valid while `parsed.documents` is not modified.
void AddNumberTexts(const ParsedText& parsed, NumberTexts& out);

}  // namespace dsd::client::internal

#endif  // DSD_CLIENT_K8S_INTERNAL_DOCUMENT_PARSER_H_
