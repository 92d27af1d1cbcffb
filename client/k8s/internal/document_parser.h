// Text -> JSON documents: JSON when the text starts with '{' or '[', else
// (multi-document) YAML, converted to nlohmann::json with the scalar typing
// kubectl uses (sigs.k8s.io/yaml on go-yaml v2), so the object converter
// sees one shape for both. Internal to dsd::client_k8s; never throws.
#ifndef DSD_CLIENT_K8S_INTERNAL_DOCUMENT_PARSER_H_
#define DSD_CLIENT_K8S_INTERNAL_DOCUMENT_PARSER_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace dsd::client::internal {

// The documents of one text, in order; an empty YAML document (only
// comments, or nothing between two `---`) is null. On a syntax error
// `documents` is empty and `error` says where: "invalid YAML at line 3,
// column 7: illegal map value".
struct ParsedText {
  std::vector<nlohmann::json> documents;
  bool multi_document = false;  // YAML with more than one document
  std::string error;            // empty when the text parsed
};

ParsedText ParseDocuments(std::string_view text);

}  // namespace dsd::client::internal

#endif  // DSD_CLIENT_K8S_INTERNAL_DOCUMENT_PARSER_H_
